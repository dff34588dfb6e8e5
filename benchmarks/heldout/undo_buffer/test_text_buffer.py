import unittest

from text_buffer import TextBuffer


class TestTextBuffer(unittest.TestCase):
    def test_insert_and_delete(self):
        self.assertEqual(TextBuffer().text, "")
        self.assertEqual(TextBuffer("abc").text, "abc")
        buffer = TextBuffer()
        buffer.insert(0, "hello")
        buffer.insert(5, " world")
        buffer.insert(0, ">> ")
        self.assertEqual(buffer.text, ">> hello world")
        buffer.delete(0, 3)
        self.assertEqual(buffer.text, "hello world")
        buffer.delete(5, 6)
        self.assertEqual(buffer.text, "hello")

    def test_undo(self):
        buffer = TextBuffer("abc")
        buffer.insert(3, "def")
        buffer.delete(0, 1)
        self.assertEqual(buffer.text, "bcdef")
        self.assertTrue(buffer.undo())
        self.assertEqual(buffer.text, "abcdef")
        self.assertTrue(buffer.undo())
        self.assertEqual(buffer.text, "abc")
        self.assertFalse(buffer.undo())
        self.assertEqual(buffer.text, "abc")

    def test_redo(self):
        buffer = TextBuffer("abc")
        self.assertFalse(buffer.redo())
        buffer.insert(3, "def")
        buffer.delete(0, 1)
        buffer.undo()
        buffer.undo()
        self.assertTrue(buffer.redo())
        self.assertEqual(buffer.text, "abcdef")
        self.assertTrue(buffer.redo())
        self.assertEqual(buffer.text, "bcdef")
        self.assertFalse(buffer.redo())
        self.assertEqual(buffer.text, "bcdef")
        self.assertTrue(buffer.undo())
        self.assertEqual(buffer.text, "abcdef")

    def test_a_new_edit_clears_redo(self):
        buffer = TextBuffer()
        buffer.insert(0, "one")
        buffer.insert(3, " two")
        buffer.undo()
        buffer.insert(3, " three")
        self.assertFalse(buffer.redo())
        self.assertEqual(buffer.text, "one three")
        self.assertTrue(buffer.undo())
        self.assertEqual(buffer.text, "one")

    def test_invalid_positions_raise_and_change_nothing(self):
        buffer = TextBuffer("abc")
        with self.assertRaises(IndexError):
            buffer.insert(-1, "x")
        with self.assertRaises(IndexError):
            buffer.insert(4, "x")
        with self.assertRaises(IndexError):
            buffer.delete(2, 2)
        with self.assertRaises(IndexError):
            buffer.delete(-1, 1)
        self.assertEqual(buffer.text, "abc")
        self.assertFalse(buffer.undo())
        buffer.insert(3, "!")
        self.assertEqual(buffer.text, "abc!")


if __name__ == '__main__':
    unittest.main()
