"""The sandbox boundary format: round trips, and hostile data rejected."""

import base64
import io

import numpy as np
import pytest

from autograder.checks.plaindata import MAX_ELEMENTS, DecodeError, Opaque, decode, encode


def roundtrip(value):
    return decode(encode(value))


def test_plain_values_round_trip():
    assert roundtrip(None) is None
    assert roundtrip(True) is True
    assert roundtrip(3) == 3
    assert roundtrip(2.5) == 2.5
    assert roundtrip("hi") == "hi"
    assert roundtrip((1, [2.0, "x"])) == (1, [2.0, "x"])
    assert roundtrip({"a": (None, 4)}) == {"a": (None, 4)}


def test_arrays_keep_dtype_and_shape_including_0d():
    for arr in (np.float32(7.5), np.arange(6, dtype=np.int64).reshape(2, 3), np.zeros((0,), np.float32)):
        out = roundtrip(arr)
        assert type(out) is np.ndarray
        assert out.dtype == np.asarray(arr).dtype and out.shape == np.asarray(arr).shape


def test_float_subclass_is_recorded_by_value_not_by_its_methods():
    class Liar(float):
        def __eq__(self, other):
            return True

        def __float__(self):
            return 42.0

    out = roundtrip(Liar(1.25))
    assert type(out) is float and out == 1.25


def test_ndarray_subclass_is_recorded_as_plain_data():
    class Sneaky(np.ndarray):
        def __array_ufunc__(self, *args, **kwargs):
            return True

    arr = np.array([1.0, 2.0]).view(Sneaky)
    out = roundtrip(arr)
    assert type(out) is np.ndarray and out.tolist() == [1.0, 2.0]


def test_huge_array_is_not_recorded():
    big = np.lib.stride_tricks.as_strided(np.zeros(1), shape=(MAX_ELEMENTS + 1,), strides=(0,))
    out = roundtrip(big)
    assert isinstance(out, Opaque) and out.too_large


def test_unknown_objects_are_described_not_kept():
    class Thing:
        pass

    out = roundtrip(Thing())
    assert isinstance(out, Opaque) and "Thing" in out.type_name


def test_pickled_array_payload_is_rejected():
    buf = io.BytesIO()
    np.save(buf, np.array([{"x": 1}], dtype=object), allow_pickle=True)
    data = {"t": "array", "npy": base64.b64encode(buf.getvalue()).decode()}
    with pytest.raises(DecodeError):
        decode(data)


@pytest.mark.parametrize("data", [
    None, [], {"t": 3}, {"t": "nope"}, {"t": "int", "v": "1"}, {"t": "int", "v": True},
    {"t": "list", "items": "abc"}, {"t": "array", "npy": "!!notbase64"}, {"t": "dict", "items": [[1]]},
])
def test_malformed_data_is_rejected(data):
    with pytest.raises(DecodeError):
        decode(data)


def test_deep_nesting_is_bounded():
    value = []
    for _ in range(50):
        value = [value]
    encoded = encode(value)
    decode(encoded)  # the encoder cut it off at its depth limit; the result is still valid data
