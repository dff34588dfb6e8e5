class TextBuffer:
    def __init__(self, text=""):
        self.text = text
        self._undo = []
        self._redo = []

    def _apply(self, edit, forward):
        kind, position, string = edit
        if (kind == "insert") == forward:
            self.text = self.text[:position] + string + self.text[position:]
        else:
            self.text = self.text[:position] + self.text[position + len(string):]

    def insert(self, position, string):
        if not 0 <= position <= len(self.text):
            raise IndexError(position)
        edit = ("insert", position, string)
        self._apply(edit, True)
        self._undo.append(edit)
        self._redo.clear()

    def delete(self, position, count):
        if not 0 <= position <= len(self.text) or position + count > len(self.text):
            raise IndexError(position)
        edit = ("delete", position, self.text[position:position + count])
        self._apply(edit, True)
        self._undo.append(edit)
        self._redo.clear()

    def undo(self):
        if not self._undo:
            return False
        edit = self._undo.pop()
        self._apply(edit, False)
        self._redo.append(edit)
        return True

    def redo(self):
        if not self._redo:
            return False
        edit = self._redo.pop()
        self._apply(edit, True)
        self._undo.append(edit)
        return True
