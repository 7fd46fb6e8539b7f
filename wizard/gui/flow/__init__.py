"""UI-agnostic wizard flows: steps, validation and results, with no Qt import (tested without a screen)."""
