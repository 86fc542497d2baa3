// The ipywidgets HTML manager (@jupyter-widgets/base) typesets widget labels
// with MathJax 2's API, MathJax.Hub.Queue(["Typeset", MathJax.Hub, node]);
// the book loads MathJax 3, which has no Hub, so every labelled widget on a
// page with math threw "Cannot read properties of undefined (reading 'Queue')".
// Loaded before embed.js (see nb_ipywidgets_js in _config.yml); MathJax 3 has
// replaced window.MathJax by DOMContentLoaded, and widgets render on "load".
document.addEventListener("DOMContentLoaded", () => {
  const mj = window.MathJax;
  if (!mj || mj.Hub || !mj.typesetPromise) return;
  mj.Hub = {
    Queue: (...calls) => {
      for (const call of calls) {
        if (Array.isArray(call) && call[0] === "Typeset" && call[2]) {
          mj.startup.promise.then(() => mj.typesetPromise([call[2]])).catch(() => {});
        }
      }
    },
  };
});
