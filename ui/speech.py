"""The simulated caller's voice: Qt's text-to-speech where the platform has an engine.

Rehearsal works the same without one (the lines are always shown); the Training view says
why speaking is off. Voices are picked by the scenario's language (en, zh_CN, nb).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from ui.qt import QtCore

log = logging.getLogger(__name__)

#: Locales to try for each rehearsal language, best first.
LOCALES = {"en": ("en_GB", "en_US"), "zh": ("zh_CN", "zh_TW"), "nb": ("nb_NO", "nn_NO", "no_NO")}
#: Qt's own test engine speaks nothing aloud; a desk never picks it unless told to.
SILENT_ENGINES = ("mock",)


class Speaker(QtCore.QObject):
    """Says the caller's lines aloud, or explains why it cannot."""

    def __init__(self, engines: Sequence[str] | None = None, parent: Any = None) -> None:
        super().__init__(parent)
        self._tts: Any = None
        self.why_not = ""
        self.spoken: list[str] = []
        try:
            from PySide6 import QtTextToSpeech
        except ImportError:
            self.why_not = "This computer's Qt has no text-to-speech module."
            return
        wanted = (
            list(engines)
            if engines is not None
            else [
                e
                for e in QtTextToSpeech.QTextToSpeech.availableEngines()
                if e not in SILENT_ENGINES
            ]
        )
        for engine in wanted:
            tts = QtTextToSpeech.QTextToSpeech(engine, self)
            if tts.state() != QtTextToSpeech.QTextToSpeech.State.Error:
                self._tts = tts
                return
            log.info("text-to-speech engine %s cannot start: %s", engine, tts.errorString())
            tts.deleteLater()
        self.why_not = (
            "No text-to-speech engine works on this computer (on Linux, install "
            "speech-dispatcher); the caller's lines are shown only."
        )

    @property
    def available(self) -> bool:
        return self._tts is not None

    @property
    def engine(self) -> str:
        return str(self._tts.engine()) if self._tts is not None else ""

    def say(self, text: str, lang: str) -> bool:
        """Speak ``text`` in a voice for ``lang``; False when there is no engine."""
        if self._tts is None:
            return False
        from PySide6 import QtTextToSpeech  # present: the engine was made from it

        self._tts.stop()
        voice = self.locale_for(lang)
        if voice is None:
            return False  # no voice speaks the language: another one would garble it
        self._tts.setLocale(QtCore.QLocale(voice))
        self._tts.say(text)
        self.spoken.append(text)
        return bool(self._tts.state() != QtTextToSpeech.QTextToSpeech.State.Error)

    def locale_for(self, lang: str) -> str | None:
        """The engine's locale for a rehearsal language, or None if it has none."""
        if self._tts is None:
            return None
        have = {loc.name() for loc in self._tts.availableLocales()}
        return next((name for name in LOCALES.get(lang, ()) if name in have), None)

    def stop(self) -> None:
        if self._tts is not None:
            self._tts.stop()
