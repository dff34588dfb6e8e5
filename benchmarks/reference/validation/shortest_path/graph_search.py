"""Reference solution for benchmarks/validation/shortest_path, written from prompt.txt."""

from collections import deque
from collections.abc import Hashable, Mapping, Sequence


def shortest_path(graph: Mapping[Hashable, Sequence[Hashable]], start: Hashable,
                  goal: Hashable) -> list[Hashable] | None:
    """A path with the fewest edges from start to goal (breadth-first), or None."""
    previous: dict[Hashable, Hashable | None] = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        if node == goal:
            path = [node]
            while path[-1] != start:
                path.append(previous[path[-1]])
            return path[::-1]
        for neighbour in graph.get(node, []):
            if neighbour not in previous:
                previous[neighbour] = node
                queue.append(neighbour)
    return None
