"""norch.cuda.Stream and Event, PyTorch's classes over the core's stream and event
handles (Note [Streams] in src/kernels/cuda/streams.cu).

Where no GPU can be used, creating a Stream raises the error PyTorch's CUDA build raises
there; an Event is created lazily at its first record(), as in PyTorch, so constructing
one never fails.
"""
from .. import _C


def _lazy_init():
    from . import _lazy_init as init
    init()


def _index(device):
    from . import _device_index
    return _device_index(device)


class Stream:
    """A CUDA stream: an ordered queue of kernels and copies on one device.

    ``priority``: lower numbers are more urgent; values outside the device's range map to
    the nearest valid priority. ``cuda_stream`` is the cudaStream_t as an integer.
    """

    def __new__(cls, device=None, priority=0, **kwargs):
        _lazy_init()
        self = super().__new__(cls)
        self._device = _index(device)
        if "stream_ptr" in kwargs:  # current_stream()/default_stream() wrap an existing stream
            self.cuda_stream = int(kwargs["stream_ptr"])
        else:
            self.cuda_stream = _C._cuda.stream_create(self._device, int(priority))
        return self

    def __init__(self, device=None, priority=0, **kwargs):
        pass

    @property
    def device(self):
        return _C.device(f"cuda:{self._device}")

    @property
    def device_index(self):
        return self._device

    @property
    def priority(self):
        return _C._cuda.stream_priority(self.cuda_stream)

    def query(self):
        """True when all work queued on the stream has finished."""
        return _C._cuda.stream_query(self.cuda_stream)

    def synchronize(self):
        """Waits for all work queued on the stream."""
        _C._cuda.stream_synchronize(self.cuda_stream)

    def wait_event(self, event):
        """Makes work queued on this stream after now wait for ``event``."""
        event.wait(self)

    def wait_stream(self, stream):
        """Makes work queued on this stream after now wait for all work queued on ``stream`` so far."""
        self.wait_event(stream.record_event())

    def record_event(self, event=None):
        """Records ``event`` (a new Event when None) on this stream and returns it."""
        if event is None:
            event = Event()
        event.record(self)
        return event

    def __eq__(self, other):
        return isinstance(other, Stream) and self.cuda_stream == other.cuda_stream and self._device == other._device

    def __hash__(self):
        return hash((self.cuda_stream, self._device))

    def __repr__(self):
        return f"<norch.cuda.Stream device=cuda:{self._device} cuda_stream={self.cuda_stream:#x}>"


class Event:
    """A CUDA event: a marker in a stream, to wait for or to time work between two of them.

    ``enable_timing=True`` makes ``elapsed_time`` available; ``blocking=True`` makes
    ``synchronize`` sleep instead of spin. ``interprocess`` is not supported.
    """

    def __init__(self, enable_timing=False, blocking=False, interprocess=False):
        if interprocess:
            raise NotImplementedError("norch.cuda.Event: interprocess events are not supported")
        self.enable_timing = bool(enable_timing)
        self.blocking = bool(blocking)
        self.cuda_event = 0  # created at the first record(), as in PyTorch
        self._recorded = False

    def _ensure(self):
        if not self.cuda_event:
            self.cuda_event = _C._cuda.event_create(self.enable_timing, self.blocking)

    def record(self, stream=None):
        """Records the event on ``stream`` (the current stream when None)."""
        if stream is None:
            from . import current_stream
            stream = current_stream()
        self._ensure()
        _C._cuda.event_record(self.cuda_event, stream.cuda_stream)
        self._recorded = True

    def wait(self, stream=None):
        """Makes work queued on ``stream`` (the current stream) after now wait for this event."""
        if stream is None:
            from . import current_stream
            stream = current_stream()
        if self.cuda_event:
            _C._cuda.stream_wait_event(stream.cuda_stream, self.cuda_event)

    def query(self):
        """True when the work recorded before the event has finished (True before any record)."""
        return _C._cuda.event_query(self.cuda_event) if self.cuda_event else True

    def synchronize(self):
        """Waits for the work recorded before the event (returns at once before any record)."""
        if self.cuda_event:
            _C._cuda.event_synchronize(self.cuda_event)

    def elapsed_time(self, end_event):
        """Milliseconds between this event and ``end_event``, both recorded and finished."""
        if not (self._recorded and end_event._recorded):
            raise RuntimeError("Both events must be recorded before calculating elapsed time.")
        if not (self.enable_timing and end_event.enable_timing):
            raise RuntimeError("Both events must be created with argument 'enable_timing=True'.")
        return _C._cuda.event_elapsed_time(self.cuda_event, end_event.cuda_event)

    def __del__(self):
        if getattr(self, "cuda_event", 0):
            try:
                _C._cuda.event_destroy(self.cuda_event)
            except Exception:  # interpreter shutdown: the module may be half torn down
                pass

    def __repr__(self):
        return f"<norch.cuda.Event {self.cuda_event:#x}>" if self.cuda_event else "<norch.cuda.Event uninitialized>"


class StreamContext:
    """``with norch.cuda.stream(s):`` makes ``s`` the current stream of its device for the block."""

    def __init__(self, stream):
        self.stream = stream
        self._saved = None

    def __enter__(self):
        s = self.stream
        if s is None:
            return None
        from . import current_device, set_device
        prev_device = current_device()
        self._saved = (prev_device, _C._cuda.get_current_stream(s._device), _C._cuda.get_current_stream(prev_device))
        if s._device != prev_device:
            set_device(s._device)
        _C._cuda.set_current_stream(s._device, s.cuda_stream)
        return s

    def __exit__(self, *exc):
        if self._saved is None:
            return False
        from . import set_device
        prev_device, stream_on_target, stream_on_prev = self._saved
        _C._cuda.set_current_stream(self.stream._device, stream_on_target)
        set_device(prev_device)
        _C._cuda.set_current_stream(prev_device, stream_on_prev)
        self._saved = None
        return False


def stream(stream):
    """Context manager that selects ``stream`` (a no-op for None), as torch.cuda.stream."""
    return StreamContext(stream)
