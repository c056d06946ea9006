"""mx.mod.Module on the C++ mod::Module: MXNet 1.x's signatures and argument forms here, the
work (binding, initialization, the fit loop, scoring, checkpoints) in C++."""
import logging
import weakref

from .. import _core
from ..base import string_types
from ..context import Context, current_context
from ..kvstore import KVStore
from ..ndarray import slice_axis

__all__ = ["Module"]

def _as_list(x):
    if x is None:
        return []
    if isinstance(x, (list, tuple)):
        return list(x)
    return [x]


def _as_dict(params, what):
    """optimizer_params as MXNet takes them: a dict or a tuple of (name, value) pairs."""
    if params is None:
        return None
    if isinstance(params, dict):
        return params
    try:
        return dict(params)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{what}: expected a dict or (name, value) pairs") from e


def _initializer(init):
    """An initializer for the C++ side: a name, an object with dumps(), or a C++ one; MXNet's
    default Uniform(0.01) when None."""
    if init is None:
        return _JSONInit('["uniform", {"scale": 0.01}]')
    if isinstance(init, string_types) and init.lstrip().startswith("["):
        return _JSONInit(init)
    return init


class _JSONInit:
    """An initializer given as MXNet's JSON (["uniform", {"scale": 0.01}])."""

    def __init__(self, json):
        self._json = json

    def dumps(self):
        return self._json


def _log_to(module_ref):
    """The C++ module's logger: the Python module's `logger` (held weakly: the C++ module is
    owned by the Python one)."""
    def log(line):
        mod = module_ref()
        logger = mod.logger if mod is not None else logging
        (logger.warning if line.startswith("Warning:") else logger.info)(line)
    return log


def _contexts(context, work_load_list=None):
    """`context` as a list of Context (a Context, a list of them, or None for the current
    context); work_load_list may only give equal loads (MXNet's default)."""
    contexts = [c if isinstance(c, Context) else Context(c) for c in _as_list(context)]
    if not contexts:
        if context is not None:
            raise ValueError("Module: context is an empty list")
        contexts = [current_context()]
    if work_load_list is not None:
        if len(work_load_list) != len(contexts):
            raise ValueError("Module: work_load_list has %d entries for %d contexts"
                             % (len(work_load_list), len(contexts)))
        if len(set(work_load_list)) > 1:
            raise NotImplementedError("Module: work_load_list must give every context the "
                                      "same load")
    return contexts


def _kvstore_arg(kvstore):
    """kvstore as the C++ module takes it: a name, None, or an mx.kv.KVStore's C++ store."""
    if kvstore is None or isinstance(kvstore, string_types):
        return kvstore
    if isinstance(kvstore, KVStore):
        return kvstore.handle
    raise TypeError("kvstore must be KVStore, str or None")


class Module:
    """Module is a basic module that wrap a `Symbol`. It is functionally the same as the
    `FeedForward` model, except under the module API.

    symbol : Symbol
    data_names : list of str (default ('data',))
    label_names : list of str (default ('softmax_label',); None for no label)
    logger : Logger (default logging): where fit's progress lines go (logger.info)
    context : Context or list of Context (default the current context, cpu()). With several
        contexts (data parallelism, as MXNet's DataParallelExecutorGroup) each context runs
        an executor on its slice of every batch along axis 0 (as even as MXNet's
        _split_input_slice makes them; a batch smaller than the number of contexts raises
        ValueError); outputs are concatenated along axis 0, gradients are summed through the
        kvstore ('local' or 'device' creates one), get_params averages the contexts' copies.
    work_load_list : list of number, optional (equal loads only, MXNet's default)
    fixed_param_names : list of str, optional (parameters not updated during training)

    compression_params : dict, optional (gradient compression on the kvstore, as
        kv.set_gradient_compression)

    state_names, group2ctxs: not supported."""

    def __init__(self, symbol, data_names=("data",), label_names=("softmax_label",),
                 logger=logging, context=None, work_load_list=None, fixed_param_names=None,
                 state_names=None, group2ctxs=None, compression_params=None):
        if state_names or group2ctxs:
            raise NotImplementedError("Module: state_names and group2ctxs are not supported")
        self._context = _contexts(context, work_load_list)
        self._symbol = symbol
        self._data_names = _as_list(data_names)
        self._label_names = _as_list(label_names)
        self._fixed_param_names = _as_list(fixed_param_names)
        self._mod = _core.module.Module(symbol, self._data_names, self._label_names,
                                        self._context, self._fixed_param_names)
        self.logger = logger
        self._compression_params = compression_params
        self._mod.set_logger(_log_to(weakref.ref(self)))

    @staticmethod
    def load(prefix, epoch, load_optimizer_states=False, **kwargs):
        """Creates a model from previously saved checkpoint (prefix-symbol.json,
        prefix-%04d.params); parameters are set when the module is bound.

        kwargs : data_names, label_names, context, logger (as Module's constructor)"""
        mod = Module.__new__(Module)
        mod._context = _contexts(kwargs.get("context"), kwargs.get("work_load_list"))
        mod._data_names = _as_list(kwargs.get("data_names", ("data",)))
        mod._label_names = _as_list(kwargs.get("label_names", ("softmax_label",)))
        mod._fixed_param_names = _as_list(kwargs.get("fixed_param_names"))
        mod._mod = _core.module.Module.load(prefix, epoch, load_optimizer_states,
                                            mod._data_names, mod._label_names, mod._context)
        mod._symbol = mod._mod.symbol
        mod.logger = kwargs.get("logger", logging)
        mod._compression_params = kwargs.get("compression_params")
        mod._mod.set_logger(_log_to(weakref.ref(mod)))
        return mod

    def save_checkpoint(self, prefix, epoch, save_optimizer_states=False, remove_amp_cast=True):
        """Saves current progress to checkpoint: prefix-symbol.json, prefix-%04d.params and,
        with save_optimizer_states, prefix-%04d.states."""
        self._mod.save_checkpoint(prefix, epoch, save_optimizer_states)

    # ---- properties ----
    @property
    def symbol(self):
        return self._symbol

    @property
    def data_names(self):
        return list(self._data_names)

    @property
    def label_names(self):
        return list(self._label_names)

    @property
    def output_names(self):
        return self._mod.output_names

    @property
    def binded(self):
        return self._mod.binded

    @property
    def for_training(self):
        return self._for_training if self.binded else False

    @property
    def params_initialized(self):
        return self._mod.params_initialized

    @property
    def optimizer_initialized(self):
        return self._mod.optimizer_initialized

    @property
    def data_shapes(self):
        """The data descriptions the module is bound with (a list of DataDesc)."""
        assert self.binded
        return self._mod.data_shapes

    @property
    def label_shapes(self):
        assert self.binded
        return self._mod.label_shapes

    @property
    def output_shapes(self):
        """A list of (name, shape) pairs of the outputs."""
        assert self.binded
        return [(name, out.shape) for name, out in zip(self.output_names,
                                                       self._mod.get_outputs())]

    # ---- setup ----
    def bind(self, data_shapes, label_shapes=None, for_training=True, inputs_need_grad=False,
             force_rebind=False, shared_module=None, grad_req="write"):
        """Binds the symbols to construct executors. This is necessary before one can perform
        computation with the module.

        data_shapes : list of (str, tuple) or DataDesc (typically data_iter.provide_data)
        label_shapes : list of (str, tuple) or DataDesc, optional"""
        if not isinstance(grad_req, string_types):
            raise NotImplementedError("bind: grad_req must be one string for all parameters")
        self._for_training = for_training
        self._mod.bind(list(data_shapes), None if label_shapes is None else list(label_shapes),
                       for_training, inputs_need_grad, force_rebind,
                       None if shared_module is None else shared_module._mod, grad_req)

    def init_params(self, initializer=None, arg_params=None, aux_params=None,
                    allow_missing=False, force_init=False, allow_extra=False):
        """Initializes the parameters and auxiliary states.

        initializer : Initializer (mx.init.*), its name ('xavier') or JSON; default
            Uniform(0.01), as MXNet
        arg_params, aux_params : dict of str to NDArray, optional (copied in where given)"""
        self._mod.init_params(_initializer(initializer), arg_params, aux_params, allow_missing,
                              force_init, allow_extra)

    def set_params(self, arg_params, aux_params, allow_missing=False, force_init=True,
                   allow_extra=False):
        """Assigns parameter and aux state values."""
        self._mod.set_params(arg_params, aux_params, allow_missing, force_init, allow_extra)

    def get_params(self):
        """Gets current parameters: (arg_params, aux_params), dicts of name to NDArray."""
        return self._mod.get_params()

    def save_params(self, fname):
        """Saves model parameters to file (``arg:NAME`` / ``aux:NAME`` arrays, mx.nd.save)."""
        from .. import ndarray as nd
        arg_params, aux_params = self.get_params()
        save_dict = {f"arg:{k}": v for k, v in arg_params.items()}
        save_dict.update({f"aux:{k}": v for k, v in aux_params.items()})
        nd.save(fname, save_dict)

    def load_params(self, fname):
        """Loads model parameters from file (as written by save_params)."""
        from .. import ndarray as nd
        arg_params, aux_params = {}, {}
        for k, value in nd.load(fname).items():
            arg_type, name = k.split(":", 1)
            if arg_type == "arg":
                arg_params[name] = value
            elif arg_type == "aux":
                aux_params[name] = value
            else:
                raise ValueError(f"Invalid param file {fname}")
        self.set_params(arg_params, aux_params)

    def init_optimizer(self, kvstore="local", optimizer="sgd",
                       optimizer_params=(("learning_rate", 0.01),), force_init=False):
        """Installs and initializes optimizers: a name and its parameters, or an Optimizer.
        rescale_grad defaults to 1/batch_size (times the number of workers for dist_sync), as
        MXNet.

        kvstore : str or KVStore (default 'local'). With one context a non-distributed name
            needs no store; with several contexts 'local' or 'device' makes one that sums
            their gradients (without a store, None, each context steps with its own
            gradient, as MXNet); a distributed name ('dist_sync', ...) or a KVStore object is used:
            the parameters are initialized on it (every worker starts from rank 0's values)
            and each update pushpulls the gradients, or, with update_on_kvstore
            (MXNET_UPDATE_ON_KVSTORE, default 1), runs the optimizer on the store."""
        self._mod.init_optimizer(optimizer, _as_dict(optimizer_params, "optimizer_params"),
                                 force_init, _kvstore_arg(kvstore), self._compression_params)

    @property
    def _kvstore(self):
        """The KVStore init_optimizer made or was given (None without one)."""
        handle = self._mod._kvstore_handle
        return None if handle is None else KVStore(handle)

    @property
    def _update_on_kvstore(self):
        return self._mod._update_on_kvstore

    def save_optimizer_states(self, fname):
        self._mod.save_optimizer_states(fname)

    def load_optimizer_states(self, fname):
        self._mod.load_optimizer_states(fname)

    # ---- computation ----
    def forward(self, data_batch, is_train=None):
        """Forward computation; the module is reshaped if the batch's shapes differ.

        data_batch : DataBatch
        is_train : bool, optional (default: the for_training value of bind)"""
        self._mod.forward(data_batch, is_train)

    def backward(self, out_grads=None):
        """Backward computation (out_grads: gradients on the outputs, for non-loss outputs)."""
        self._mod.backward(out_grads)

    def forward_backward(self, data_batch):
        """A convenient function that calls both forward and backward."""
        self.forward(data_batch, is_train=True)
        self.backward()

    def update(self):
        """Updates parameters according to the installed optimizer and the gradients computed
        in the previous forward-backward batch."""
        self._mod.update()

    def get_outputs(self, merge_multi_context=True):
        """Gets outputs of the previous forward computation.

        With several contexts and merge_multi_context (default), each output is the
        concatenation of the contexts' outputs along axis 0 (a list of NDArray); otherwise a
        list, per output, of the contexts' arrays: [[out1_dev1, out1_dev2], ...]."""
        return self._mod.get_outputs(merge_multi_context)

    def get_input_grads(self, merge_multi_context=True):
        """Gets the gradients with respect to the inputs (bind with inputs_need_grad), merged
        over the contexts as get_outputs."""
        return self._mod.get_input_grads(merge_multi_context)

    def update_metric(self, eval_metric, labels, pre_sliced=False):
        """Evaluates and accumulates evaluation metric on outputs of the last forward
        computation: one update per context, with its outputs and its slice of labels."""
        if pre_sliced:
            raise NotImplementedError("update_metric: pre_sliced labels are not supported")
        try:
            self._mod.update_metric(eval_metric, labels)
        except TypeError:  # a Python metric object: MXNet's update(labels, preds)
            eval_metric.update(labels, self.get_outputs())

    # ---- high level ----
    def fit(self, train_data, eval_data=None, eval_metric="acc", epoch_end_callback=None,
            batch_end_callback=None, kvstore="local", optimizer="sgd",
            optimizer_params=(("learning_rate", 0.01),), eval_end_callback=None,
            eval_batch_end_callback=None, initializer=None, arg_params=None,
            aux_params=None, allow_missing=False, force_rebind=False, force_init=False,
            begin_epoch=0, num_epoch=None, validation_metric=None, monitor=None,
            sparse_row_id_fn=None):
        """Trains the module parameters.

        train_data : DataIter
        eval_data : DataIter, optional (scored at the end of each epoch)
        eval_metric : str, list of str or EvalMetric (default 'acc')
        epoch_end_callback : function(epoch, symbol, arg_params, aux_params) or a list
        batch_end_callback : function(BatchEndParam) or a list (e.g. mx.callback.Speedometer)
        kvstore : str or KVStore (default 'local'; see init_optimizer)
        optimizer : str or Optimizer (default 'sgd')
        optimizer_params : dict or (name, value) pairs (default (('learning_rate', 0.01),))
        initializer : Initializer, name or JSON (default Uniform(0.01))
        arg_params, aux_params : dict of str to NDArray, optional (starting parameters)
        num_epoch : int (required)

        The loop runs in C++ with the GIL released; callbacks and Python data iterators are
        called with the GIL taken, and Ctrl-C stops it after the current batch."""
        assert num_epoch is not None, "please specify number of epochs"
        if validation_metric is not None and validation_metric is not eval_metric:
            raise NotImplementedError("fit: validation_metric other than eval_metric")
        if eval_end_callback is not None or monitor is not None:
            raise NotImplementedError("fit: eval_end_callback and monitor are not supported")
        self._for_training = True
        self._mod.fit(train_data, eval_data, eval_metric, _as_list(epoch_end_callback),
                      _as_list(batch_end_callback), optimizer,
                      _as_dict(optimizer_params, "optimizer_params"),
                      _as_list(eval_batch_end_callback), _initializer(initializer), arg_params,
                      aux_params, allow_missing, force_rebind, force_init, begin_epoch,
                      num_epoch, _kvstore_arg(kvstore), self._compression_params)

    def score(self, eval_data, eval_metric, num_batch=None, batch_end_callback=None,
              score_end_callback=None, reset=True, epoch=0, sparse_row_id_fn=None):
        """Runs prediction on `eval_data` and evaluates the performance according to the given
        `eval_metric`. Returns a list of (name, value) pairs. Pad rows are not counted."""
        if score_end_callback is not None:
            raise NotImplementedError("score: score_end_callback is not supported")
        return self._mod.score(eval_data, eval_metric, -1 if num_batch is None else num_batch,
                               _as_list(batch_end_callback), reset, epoch)

    def predict(self, eval_data, num_batch=None, merge_batches=True, reset=True,
                always_output_list=False, sparse_row_id_fn=None):
        """Runs prediction and collects the outputs (pad rows removed), concatenated along
        the batch axis: one NDArray, or a list for several outputs (always_output_list)."""
        if not merge_batches:
            return [outs for outs, _, _ in self.iter_predict(eval_data, num_batch, reset)]
        outputs = self._mod.predict(eval_data, -1 if num_batch is None else num_batch, reset)
        if len(outputs) == 1 and not always_output_list:
            return outputs[0]
        return outputs

    def iter_predict(self, eval_data, num_batch=None, reset=True, sparse_row_id_fn=None):
        """Iterates over predictions: yields (outputs, batch index, batch), pad rows removed."""
        if reset:
            eval_data.reset()
        for nbatch, eval_batch in enumerate(eval_data):
            if num_batch is not None and nbatch == num_batch:
                break
            self.forward(eval_batch, is_train=False)
            pad = eval_batch.pad or 0
            outputs = [slice_axis(out, axis=0, begin=0, end=out.shape[0] - pad)
                       for out in self.get_outputs()]
            yield outputs, nbatch, eval_batch

    def install_monitor(self, mon):
        raise NotImplementedError("Module.install_monitor: use Executor.set_monitor_callback")

    def prepare(self, data_batch, sparse_row_id_fn=None):
        """Prepares the module for processing a data batch (nothing to do on one device)."""
