"""torch.device against PyTorch: accepted arguments, their errors (type and message), equality, hashing,
str/repr and pickling. Expected values come from the installed torch at run time."""
import copy
import pickle
import warnings

import numpy as np
import pytest

import tapegrad as tg
from tapegrad._backend import cuda_available
from torch_errors import assert_raises_like_torch

torch = pytest.importorskip("torch")

# each case builds a device with module m (torch or tapegrad)
CASES = {
    "cpu": lambda m: m.device("cpu"),
    "cuda": lambda m: m.device("cuda"),
    "cpu:0": lambda m: m.device("cpu:0"),
    "cpu:1": lambda m: m.device("cpu:1"),
    "cuda:1": lambda m: m.device("cuda:1"),
    "cuda:10": lambda m: m.device("cuda:10"),
    "cpu,0": lambda m: m.device("cpu", 0),
    "cuda,3": lambda m: m.device("cuda", 3),
    "cpu,None": lambda m: m.device("cpu", None),
    "cpu,-0": lambda m: m.device("cpu", -0),
    "cuda,np.int64": lambda m: m.device("cuda", np.int64(2)),
    "cuda,tensor": lambda m: m.device("cuda", m.tensor(1)),
    "type=cpu": lambda m: m.device(type="cpu"),
    "type=cpu,index=0": lambda m: m.device(type="cpu", index=0),
    "type=cuda,index=None": lambda m: m.device(type="cuda", index=None),
    "device=cuda:1": lambda m: m.device(device="cuda:1"),
    "device(device)": lambda m: m.device(m.device("cuda", 2)),
    "meta": lambda m: m.device("meta"),
    "hip": lambda m: m.device("hip"),
    "privateuseone": lambda m: m.device("privateuseone"),
    "bytes": lambda m: m.device(b"cpu"),
    # errors
    "cpu,-1": lambda m: m.device("cpu", -1),
    "cuda,-2": lambda m: m.device("cuda", -2),
    "index=-1": lambda m: m.device("cpu", index=-1),
    "cpu:-1": lambda m: m.device("cpu:-1"),
    "cuda:-1": lambda m: m.device("cuda:-1"),
    "int -1": lambda m: m.device(-1),
    "np.int64 -1": lambda m: m.device(np.int64(-1)),
    "cuda:x": lambda m: m.device("cuda:x"),
    "cuda:": lambda m: m.device("cuda:"),
    "cuda:01": lambda m: m.device("cuda:01"),
    "cuda:+1": lambda m: m.device("cuda:+1"),
    "cuda: 1": lambda m: m.device("cuda: 1"),
    "cuda:1 ": lambda m: m.device("cuda:1 "),
    "cuda:1:2": lambda m: m.device("cuda:1:2"),
    "cuda:0x1": lambda m: m.device("cuda:0x1"),
    "cuda:99999999999": lambda m: m.device("cuda:99999999999"),
    " cuda": lambda m: m.device(" cuda"),
    ":0": lambda m: m.device(":0"),
    "empty": lambda m: m.device(""),
    "CPU": lambda m: m.device("CPU"),
    "Cuda:0": lambda m: m.device("Cuda:0"),
    "gpu": lambda m: m.device("gpu"),
    "cuda:0,0": lambda m: m.device("cuda:0", 0),
    "cuda:0,None": lambda m: m.device("cuda:0", None),
    "type=cuda:1": lambda m: m.device(type="cuda:1"),
    "cuda,1.0": lambda m: m.device("cuda", 1.0),
    "cuda,'1'": lambda m: m.device("cuda", "1"),
    "cuda,True": lambda m: m.device("cuda", True),
    "cuda,index=1.5": lambda m: m.device("cuda", index=1.5),
    "cuda,float tensor": lambda m: m.device("cuda", m.tensor(1.0)),
    "device,0": lambda m: m.device(m.device("cpu"), 0),
    "1.0": lambda m: m.device(1.0),
    "None": lambda m: m.device(None),
    "True": lambda m: m.device(True),
    "tensor": lambda m: m.device(m.tensor(1)),
    "no args": lambda m: m.device(),
    "index=0 only": lambda m: m.device(index=0),
    "type=int": lambda m: m.device(type=1),
    "three args": lambda m: m.device("cpu", 1, 2),
    "bad keyword": lambda m: m.device("cpu", foo=1),
}
# an int is an index on the current accelerator: an error without one (tapegrad's accelerator is CUDA)
ACCELERATOR_CASES = {
    "int 0": lambda m: m.device(0),
    "int 1": lambda m: m.device(1),
    "np.int32 0": lambda m: m.device(np.int32(0)),
    "tensor.to(0)": lambda m: m.zeros(2).to(0),
}
TENSOR_CASES = {
    "zeros cpu:-1": lambda m: m.zeros(2, device="cpu:-1"),
    "zeros -1": lambda m: m.zeros(2, device=-1),
    "to cpu:-1": lambda m: m.zeros(2).to("cpu:-1"),
    "to -1": lambda m: m.zeros(2).to(-1),
    "zeros CPU": lambda m: m.zeros(2, device="CPU"),
}


def _outcome(case, m):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return case(m), None
        except Exception as e:  # noqa: BLE001 - compared below
            return None, e


@pytest.mark.parametrize("name", list(CASES) + list(TENSOR_CASES))
def test_device_arguments_like_torch(name):
    case = CASES.get(name) or TENSOR_CASES[name]
    want, err = _outcome(case, torch)
    if err is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert_raises_like_torch(case, torch, tg, name)
        return
    got, err = _outcome(case, tg)
    assert err is None, f"{name}: tapegrad raised {err!r}, torch gave {want!r}"
    assert (repr(got), str(got), got.type, got.index) == (repr(want), str(want), want.type, want.index)


@pytest.mark.parametrize("name", list(ACCELERATOR_CASES))
def test_int_device_is_the_accelerator(name):
    case = ACCELERATOR_CASES[name]
    if cuda_available() != torch.cuda.is_available():
        pytest.skip("torch and tapegrad see different accelerators")
    want, err = _outcome(case, torch)
    if err is not None:
        assert_raises_like_torch(case, torch, tg, name)
    else:
        got = case(tg)
        assert str(got if hasattr(got, "type") else got.device) == str(want if hasattr(want, "type") else want.device)


def test_equality_hashing_and_order():
    pairs = [("cpu", "cpu"), ("cpu", "cpu:0"), ("cuda", "cuda:0"), ("cuda:1", "cuda:1"), ("cpu", "cuda")]
    for a, b in pairs:
        for m_eq in (lambda m: m.device(a) == m.device(b), lambda m: m.device(a) != m.device(b),
                     lambda m: m.device(a) == a, lambda m: m.device(a) != a, lambda m: m.device(a) == None,  # noqa
                     lambda m: (hash(m.device(a)) == hash(m.device(b))) == (m.device(a) == m.device(b)),
                     lambda m: m.device(a) in {m.device(b): 1}):
            assert m_eq(tg) == m_eq(torch), (a, b)
    assert_raises_like_torch(lambda m: m.device("cpu") < m.device("cpu"), torch, tg, "device < device")
    with pytest.raises(TypeError):  # Python's own message, naming the class
        tg.device("cpu") >= 1


@pytest.mark.parametrize("spec", ["cpu", "cuda", "cuda:1", "meta"])
def test_pickle_copy_and_reduce(spec):
    d = tg.device(spec)
    for back in (pickle.loads(pickle.dumps(d)), copy.deepcopy(d), copy.copy(d)):
        assert back == d and repr(back) == repr(d)
    fn, args = d.__reduce__()
    assert fn is tg.device and args == torch.device(spec).__reduce__()[1]
    assert (str(d), repr(d)) == (str(torch.device(spec)), repr(torch.device(spec)))
