import dataclasses

import pytest

from lindyn import ConfigBase, ConfigError, param


@dataclasses.dataclass(frozen=True)
class Toy(ConfigBase):
    n: int = param(3, ge=1, help="size")
    alpha: float = param(1.0, gt=0)
    kind: str = param("a", choices=("a", "b"))
    flag: bool = param(False)

    def check(self):
        if self.kind == "b" and self.n > 5:
            raise ConfigError("n", "must be <= 5 when kind=b")


def test_defaults_and_coercion():
    cfg = Toy(alpha=2)
    assert cfg.alpha == 2.0 and isinstance(cfg.alpha, float)


@pytest.mark.parametrize(
    ("kwargs", "field", "fragment"),
    [
        ({"n": 0}, "n", "[1, inf)"),
        ({"alpha": 0.0}, "alpha", "(0, inf)"),
        ({"alpha": float("nan")}, "alpha", "nan"),
        ({"alpha": float("inf")}, "alpha", "finite"),
        ({"kind": "c"}, "kind", "one of a, b"),
        ({"n": 2.5}, "n", "type int"),
        ({"flag": 1}, "flag", "type bool"),
        ({"kind": "b", "n": 6}, "n", "<= 5"),
    ],
)
def test_bad_values_name_field_and_range(kwargs, field, fragment):
    with pytest.raises(ConfigError) as info:
        Toy(**kwargs)
    message = str(info.value)
    assert message.startswith(f"{field}: ") and fragment in message and "\n" not in message


def test_from_strings():
    cfg = Toy().replace_from_strings({"n": "4", "alpha": "0.5", "flag": "true", "kind": "b"})
    assert (cfg.n, cfg.alpha, cfg.flag, cfg.kind) == (4, 0.5, True, "b")
    assert Toy().replace_from_strings({"n": "1e1"}).n == 10
    with pytest.raises(ConfigError, match="type int"):
        Toy().replace_from_strings({"n": "2.5"})
    with pytest.raises(ConfigError, match="unknown key"):
        Toy().replace_from_strings({"m": "1"})
    with pytest.raises(ConfigError, match="type float"):
        Toy().replace_from_strings({"alpha": "abc"})
    with pytest.raises(ConfigError, match="unknown key"):
        Toy().replace(zeta=1)


def test_frozen_and_json():
    cfg = Toy()
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.n = 4  # type: ignore[misc]
    assert '"alpha": 1.0' in cfg.to_json()
    assert set(Toy.describe()) == {"n", "alpha", "kind", "flag"}
