"""Reference solution for examples/inventory, written from prompt.txt."""

import dataclasses
from dataclasses import dataclass


@dataclass
class Item:
    name: str
    price: float
    quantity: int = 0


class Inventory:
    """Items stored by name."""

    def __init__(self) -> None:
        self._items: dict[str, Item] = {}

    def add_item(self, item: Item) -> None:
        """Store item, or add its quantity to the stored item of the same name."""
        stored = self._items.get(item.name)
        if stored is None:
            self._items[item.name] = dataclasses.replace(item)
        else:
            stored.quantity += item.quantity

    def stock(self, name: str) -> int:
        """The quantity of that item, 0 if it is unknown."""
        item = self._items.get(name)
        return item.quantity if item is not None else 0

    def remove(self, name: str, quantity: int) -> None:
        """Take quantity away; KeyError for an unknown name, ValueError without enough stock."""
        if name not in self._items:
            raise KeyError(name)
        item = self._items[name]
        if quantity > item.quantity:
            raise ValueError(f"only {item.quantity} of {name!r} in stock, cannot remove {quantity}")
        item.quantity -= quantity

    def total_value(self) -> float:
        """Sum of price * quantity over all items."""
        return sum(item.price * item.quantity for item in self._items.values())
