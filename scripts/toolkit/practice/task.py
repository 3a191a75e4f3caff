"""What a practice task is: the book's object to write, its skeleton, its checks, the mistakes it can name."""
from dataclasses import dataclass, field

__all__ = ["Mistake", "Task", "CheckFailed"]


@dataclass(frozen=True)
class Mistake:
    """A classic mistake: its name, why it is wrong, and the line of the book it concerns.

    ``matches(received)`` says whether what the learner's code returned is what
    this mistake produces (e.g. a dW of shape W.T's). The grader tries a
    failed comparison's mistakes in order and names the first that matches.
    """

    name: str
    why: str
    book_line: str
    matches: object  # callable: received -> bool


@dataclass(frozen=True)
class Task:
    """One function or class of the book for the learner to write.

    ``name``: the book's name in lower snake case (the file ``practice/<name>.py``); ``book_name``: the name
    the learner's file must define; ``skeleton``: the file ``start`` writes; ``checks``: functions
    ``check(grader)`` run in order, each named by its docstring's first line; ``section``: the book's section.
    """

    name: str
    chapter: int
    section: str
    book_name: str
    skeleton: str
    checks: tuple = field(default_factory=tuple)

    @property
    def file_name(self):
        return f"{self.name}.py"


class CheckFailed(Exception):
    """One check's failure: what differs, the expected and received values, the mistake if one was named."""

    def __init__(self, message, expected=None, received=None, mistake=None, book_line=None):
        super().__init__(message)
        self.message = message
        self.expected = expected
        self.received = received
        self.mistake = mistake
        self.book_line = mistake.book_line if mistake is not None else book_line  # the named mistake's own line
