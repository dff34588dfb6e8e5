import dataclasses
import unittest

from todo import Task, TodoList


class TestTodoList(unittest.TestCase):
    def test_task_is_a_dataclass(self):
        self.assertTrue(dataclasses.is_dataclass(Task))
        task = Task("write report", 2)
        self.assertFalse(task.done)
        self.assertEqual(task, Task(title="write report", priority=2, done=False))

    def test_add_returns_the_stored_task(self):
        todo = TodoList()
        task = todo.add("write report", 2)
        self.assertEqual(task, Task("write report", 2))
        self.assertEqual(todo.pending(), [task])
        todo.complete("write report")
        self.assertTrue(task.done)

    def test_pending_sorted_by_priority_then_insertion(self):
        todo = TodoList()
        for title, priority in [("write", 3), ("pay", 1), ("call", 2), ("buy", 1), ("answer", 2)]:
            todo.add(title, priority)
        self.assertEqual([t.title for t in todo.pending()], ["pay", "buy", "call", "answer", "write"])

    def test_complete_and_next_task(self):
        todo = TodoList()
        self.assertIsNone(todo.next_task())
        todo.add("a", 1)
        todo.add("b", 2)
        todo.complete("a")
        self.assertEqual([t.title for t in todo.pending()], ["b"])
        self.assertEqual(todo.next_task(), Task("b", 2))
        todo.complete("b")
        self.assertEqual(todo.pending(), [])
        self.assertIsNone(todo.next_task())
        with self.assertRaises(KeyError):
            todo.complete("unknown")

    def test_duplicate_title_raises(self):
        todo = TodoList()
        todo.add("a", 1)
        with self.assertRaises(ValueError):
            todo.add("a", 2)
        self.assertEqual(len(todo.pending()), 1)


if __name__ == '__main__':
    unittest.main()
