import dataclasses
import unittest

from inventory import Inventory, Item


class TestInventory(unittest.TestCase):
    def test_item_is_a_dataclass_with_default_quantity(self):
        self.assertTrue(dataclasses.is_dataclass(Item))
        item = Item("apple", 0.5)
        self.assertEqual(item.quantity, 0)
        self.assertEqual(item, Item(name="apple", price=0.5, quantity=0))

    def test_total_value(self):
        inventory = Inventory()
        inventory.add_item(Item("apple", 0.5, 10))
        inventory.add_item(Item("pear", 1.25, 4))
        self.assertAlmostEqual(inventory.total_value(), 10.0)

    def test_adding_same_name_increases_quantity(self):
        inventory = Inventory()
        inventory.add_item(Item("apple", 0.5, 10))
        inventory.add_item(Item("apple", 0.5, 5))
        self.assertEqual(inventory.stock("apple"), 15)
        self.assertEqual(inventory.stock("banana"), 0)

    def test_remove(self):
        inventory = Inventory()
        inventory.add_item(Item("apple", 0.5, 10))
        inventory.remove("apple", 3)
        self.assertEqual(inventory.stock("apple"), 7)
        self.assertAlmostEqual(inventory.total_value(), 3.5)

    def test_remove_errors(self):
        inventory = Inventory()
        inventory.add_item(Item("apple", 0.5, 2))
        with self.assertRaises(ValueError):
            inventory.remove("apple", 3)
        with self.assertRaises(KeyError):
            inventory.remove("banana", 1)


if __name__ == '__main__':
    unittest.main()
