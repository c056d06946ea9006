"""mx.io.ImageRecordIter / ImageRecordUInt8Iter: batches of decoded, augmented images from a
RecordIO file, on mixnet's C++ iterator (decode and augmentation threads run without the GIL)."""
from .. import _core
from .io import _CppIter

__all__ = ["ImageRecordIter", "ImageRecordUInt8Iter"]

# MXNet's other arguments: None = accepted and unused (logging, device, chunk shuffling);
# a value = supported only at that default (the augmentation it would enable is not here).
_OTHER_ARGS = {"verbose": None, "ctx": None, "device_id": None, "shuffle_chunk_size": None,
               "shuffle_chunk_seed": None, "seed_aug": None, "num_channels": None,
               "inter_method": 1, "max_rotate_angle": 0, "rotate": -1, "max_shear_ratio": 0,
               "max_random_scale": 1, "min_random_scale": 1, "max_img_size": 1e10,
               "min_img_size": 0, "max_crop_size": -1, "min_crop_size": -1, "pad": 0,
               "fill_value": 255, "random_h": 0, "random_s": 0, "random_l": 0,
               "max_random_contrast": 0, "max_random_illumination": 0, "mean_a": 0, "std_a": 1,
               "mean_img": "", "hue": 0}


class ImageRecordIter(_CppIter):
    """Iterates on image RecordIO files (records packed by mx.recordio.pack_img / im2rec).

    Reads batches of images from .rec files, decodes them (RGB), augments and normalizes them
    into (batch_size, c, h, w) arrays. Parameters (MXNet's names and defaults):

    path_imgrec : str (the image RecordIO file), path_imgidx : str (its .idx index)
    data_shape : tuple (channels, height, width), label_width : int, default 1
    batch_size : int, shuffle : bool, default False (a new seeded order each epoch; needs
    path_imgidx), seed : int, default 0
    round_batch : bool, default True (complete the last batch from the start of the data;
    `pad` counts those rows; else the rows are zeros)
    preprocess_threads : int, default 1 (decode+augment threads; MXNet's default is 4, 1
    here so that with the training's compute threads 2 cores are not oversubscribed)
    prefetch_buffer : int, default 4 (batches decoded ahead)
    num_parts, part_index : int (part k holds a contiguous range of the records)
    mean_r, mean_g, mean_b, std_r, std_g, std_b, scale : float (out = (x - mean) / std * scale)
    resize : int, default -1 (resize the shorter side to this before cropping)
    rand_crop, rand_mirror : bool, default False
    random_resized_crop : bool, min_random_area, max_random_area : float, default 1,
    min_aspect_ratio, max_aspect_ratio : float (0: aspect ratio 1)
    brightness, contrast, saturation, pca_noise : float, default 0
    dtype : 'float32' or 'uint8', data_name, label_name : str

    Random augmentations are drawn per record from (seed, epoch, record): batches do not
    depend on preprocess_threads. Options of MXNet's that change nothing at their defaults
    (rotation, shear, HSL jitter, padding) are accepted at those defaults only.
    """

    def __init__(self, path_imgrec, data_shape, batch_size, path_imgidx="", label_width=1,
                 shuffle=False, seed=0, round_batch=True, preprocess_threads=1,
                 prefetch_buffer=4, num_parts=1, part_index=0, mean_r=0.0, mean_g=0.0,
                 mean_b=0.0, std_r=1.0, std_g=1.0, std_b=1.0, scale=1.0, resize=-1,
                 rand_crop=False, rand_mirror=False, random_resized_crop=False,
                 min_random_area=1.0, max_random_area=1.0, min_aspect_ratio=None,
                 max_aspect_ratio=0.0, brightness=0.0, contrast=0.0, saturation=0.0,
                 pca_noise=0.0, dtype="float32", data_name="data", label_name="softmax_label",
                 **kwargs):
        for k, v in kwargs.items():
            if k not in _OTHER_ARGS:
                raise TypeError(f"ImageRecordIter: unknown argument {k!r}")
            if _OTHER_ARGS[k] is not None and v not in (None, "", _OTHER_ARGS[k]):
                raise NotImplementedError(f"ImageRecordIter: {k}={v!r} is not supported "
                                          f"(only its default, {_OTHER_ARGS[k]!r})")
        super().__init__(int(batch_size))
        p = _core.io.ImageRecordParam()
        p.path_imgrec = str(path_imgrec)
        p.path_imgidx = str(path_imgidx or "")
        p.data_shape = tuple(int(d) for d in data_shape)
        p.dtype = dtype
        if max_aspect_ratio and min_aspect_ratio is None:
            min_aspect_ratio = 1.0 / max_aspect_ratio  # MXNet's rule for a missing minimum
        p.min_aspect_ratio = float(min_aspect_ratio or 0.0)
        for name, value in dict(label_width=label_width, batch_size=batch_size, seed=seed,
                                preprocess_threads=preprocess_threads,
                                prefetch_buffer=prefetch_buffer, num_parts=num_parts,
                                part_index=part_index, resize=resize).items():
            setattr(p, name, int(value))
        for name, value in dict(shuffle=shuffle, round_batch=round_batch, rand_crop=rand_crop,
                                rand_mirror=rand_mirror,
                                random_resized_crop=random_resized_crop).items():
            setattr(p, name, bool(value))
        for name, value in dict(mean_r=mean_r, mean_g=mean_g, mean_b=mean_b, std_r=std_r,
                                std_g=std_g, std_b=std_b, scale=scale,
                                min_random_area=min_random_area,
                                max_random_area=max_random_area,
                                max_aspect_ratio=max_aspect_ratio, brightness=brightness,
                                contrast=contrast, saturation=saturation,
                                pca_noise=pca_noise).items():
            setattr(p, name, float(value))
        p.data_name = str(data_name)
        p.label_name = str(label_name)
        self._cpp_iter = _core.io.ImageRecordIter(p)
        self.num_records = self._cpp_iter.num_records


class ImageRecordUInt8Iter(ImageRecordIter):
    """ImageRecordIter with uint8 batches (pixels not normalized)."""

    def __init__(self, *args, **kwargs):
        kwargs["dtype"] = "uint8"
        super().__init__(*args, **kwargs)
