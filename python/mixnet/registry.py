"""Name registries of classes (MXNet's mx.registry): initializers, optimizers and metrics are
created by name, case-insensitively."""


class Registry:
    """Classes deriving from `base`, by lower-cased name (and aliases)."""

    def __init__(self, base, kind):
        self._base = base
        self._kind = kind
        self.classes = {}

    def register(self, klass):
        """Registers a `base` subclass under its lower-cased name; returns it (a decorator)."""
        if not (isinstance(klass, type) and issubclass(klass, self._base)):
            raise TypeError(f"register: {klass!r} is not a subclass of {self._base.__name__}")
        self.classes[klass.__name__.lower()] = klass
        return klass

    def alias(self, *aliases):
        """A decorator registering a class under further names."""
        def reg(klass):
            for name in aliases:
                self.classes[name.lower()] = klass
            return klass
        return reg

    def find(self, name):
        """The class registered as `name`; ValueError listing the known names."""
        klass = self.classes.get(str(name).lower())
        if klass is None:
            raise ValueError(f"Cannot find {self._kind} '{name}' (known: "
                             f"{', '.join(sorted(self.classes))})")
        return klass
