"""Data: MedMNIST (2-D, 3-D) and HC18 with checksums, image and medical folders, tf.data pipelines, splits, resampling, slices."""

from medimgkit.data.download import ChecksumError, DataUnavailableError, md5sum
from medimgkit.data.folder import load_image_folder, save_image_folder
from medimgkit.data.hc18 import (
    HC18,
    download_hc18,
    hc18_checksums,
    hc18_subject,
    load_hc18,
    read_hc18_csv,
)
from medimgkit.data.medical_folder import FolderDataset, load_medical_folder
from medimgkit.data.medmnist import (
    SPLITS,
    class_names,
    dataset_info,
    load_medmnist,
    load_medmnist_splits,
    medmnist_path,
)
from medimgkit.data.pipeline import (
    as_dataset,
    class_balance,
    class_weights,
    cross_split_duplicates,
    stratified_subset,
    to_float,
)
from medimgkit.data.resampling import repeat_to_size, resample
from medimgkit.data.split import patient_kfold, patient_split, shared_patients, split_balance
from medimgkit.data.volumes import middle_slices, orthogonal_slices

__all__ = [
    "SPLITS",
    "ChecksumError",
    "DataUnavailableError",
    "as_dataset",
    "class_balance",
    "class_names",
    "class_weights",
    "cross_split_duplicates",
    "dataset_info",
    "load_image_folder",
    "load_medmnist",
    "load_medmnist_splits",
    "md5sum",
    "medmnist_path",
    "repeat_to_size",
    "resample",
    "save_image_folder",
    "stratified_subset",
    "to_float",
    # medical folders and patient-level splits
    "FolderDataset",
    "load_medical_folder",
    "patient_kfold",
    "patient_split",
    "shared_patients",
    "split_balance",
    # 3-D volumes to 2-D and 2.5-D inputs
    "middle_slices",
    "orthogonal_slices",
    # HC18: fetal head ultrasound, segmentation and head circumference
    "HC18",
    "download_hc18",
    "hc18_checksums",
    "hc18_subject",
    "load_hc18",
    "read_hc18_csv",
]
