"""Reference solution for benchmarks/validation/todo_list, written from prompt.txt."""

from dataclasses import dataclass


@dataclass
class Task:
    title: str
    priority: int  # 1 is the most urgent
    done: bool = False


class TodoList:
    """Tasks by title, kept in the order they were added."""

    def __init__(self) -> None:
        self._tasks: dict[str, Task] = {}

    def add(self, title: str, priority: int) -> Task:
        """Create, store and return a Task; ValueError if the title exists already."""
        if title in self._tasks:
            raise ValueError(f"a task titled {title!r} exists already")
        task = Task(title, priority)
        self._tasks[title] = task
        return task

    def complete(self, title: str) -> None:
        """Mark that task done; KeyError for an unknown title."""
        if title not in self._tasks:
            raise KeyError(title)
        self._tasks[title].done = True

    def pending(self) -> list[Task]:
        """The tasks not done, by priority, then in the order they were added."""
        return sorted((t for t in self._tasks.values() if not t.done), key=lambda t: t.priority)

    def next_task(self) -> Task | None:
        """The first task of pending(), or None."""
        pending = self.pending()
        return pending[0] if pending else None
