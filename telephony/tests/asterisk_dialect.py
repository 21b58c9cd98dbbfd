"""A strict reader of Asterisk's config dialect, and a small dialplan walker, for testing the rendered files.

Reads what Asterisk's config parser reads (sections, `(!)` templates, `(tpl)` inheritance, `key = value`,
`key => value`, `;` comments, `\\;` escapes) and refuses anything it would not; the walker follows a call through
`extensions.conf` (Stasis, GotoIf, Gosub, Dial, Hangup…) so a test can say where a dialed number ends up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


class ConfigSyntaxError(Exception):
    pass


@dataclass
class Section:
    name: str
    line: int
    is_template: bool = False
    templates: list[str] = field(default_factory=list)
    entries: list[tuple[str, str, int]] = field(default_factory=list)

    def own(self, key: str) -> list[str]:
        return [value for k, value, _line in self.entries if k == key]


@dataclass
class Config:
    sections: list[Section]

    def named(self, name: str) -> list[Section]:
        return [section for section in self.sections if section.name == name and not section.is_template]

    def template(self, name: str) -> Section:
        for section in self.sections:
            if section.name == name and section.is_template:
                return section
        raise KeyError(name)

    def options(self, section: Section) -> dict[str, list[str]]:
        """Options as Asterisk sees them: the templates' first, in order, then the section's own."""
        merged: dict[str, list[str]] = {}
        for template_name in section.templates:
            for key, values in self.options(self._any(template_name)).items():
                merged.setdefault(key, []).extend(values)
        for key, value, _line in section.entries:
            merged.setdefault(key, []).append(value)
        return merged

    def _any(self, name: str) -> Section:
        for section in self.sections:
            if section.name == name:
                return section
        raise KeyError(name)

    def of_type(self, kind: str) -> dict[str, dict[str, list[str]]]:
        """pjsip.conf: objects of one `type` by name."""
        found = {}
        for section in self.sections:
            if section.is_template:
                continue
            options = self.options(section)
            if options.get("type") == [kind]:
                if section.name in found:
                    raise ConfigSyntaxError(f"two {kind} objects named {section.name}")
                found[section.name] = options
        return found


_HEADER = re.compile(r"^\[([^\[\]]+)\](?:\(([^()]*)\))?$")
_ENTRY = re.compile(r"^([A-Za-z0-9_.-]+)\s*(=>|=)\s*(.*)$")


def _strip_comment(raw: str) -> str:
    out, escaped = [], False
    for char in raw:
        if escaped:
            out.append(char)
            escaped = False
        elif char == "\\":
            out.append(char)
            escaped = True
        elif char == ";":
            break
        else:
            out.append(char)
    return "".join(out).strip()


def parse(text: str) -> Config:
    sections: list[Section] = []
    current: Section | None = None
    for number, raw in enumerate(text.split("\n"), start=1):
        if "\r" in raw or "\t" in raw.strip():
            raise ConfigSyntaxError(f"line {number}: control character")
        line = _strip_comment(raw)
        if not line:
            continue
        if line.startswith("#"):
            raise ConfigSyntaxError(f"line {number}: directive {line!r} not expected in a rendered file")
        header = _HEADER.match(line)
        if header:
            name, options = header.group(1), header.group(2)
            current = Section(name=name, line=number)
            if options is not None:
                for option in [o.strip() for o in options.split(",")]:
                    if option == "!":
                        current.is_template = True
                    elif option and option != "+":
                        if not any(s.name == option and s.is_template for s in sections):
                            raise ConfigSyntaxError(f"line {number}: template {option!r} is not defined above")
                        current.templates.append(option)
                    else:
                        raise ConfigSyntaxError(f"line {number}: bad section option {options!r}")
            sections.append(current)
            continue
        if line.startswith("[") or line.endswith("]") and "=" not in line:
            raise ConfigSyntaxError(f"line {number}: malformed section header {line!r}")
        entry = _ENTRY.match(line)
        if entry is None:
            raise ConfigSyntaxError(f"line {number}: neither a section nor `key = value`: {line!r}")
        if current is None:
            raise ConfigSyntaxError(f"line {number}: {line!r} before any section")
        current.entries.append((entry.group(1), entry.group(3).strip(), number))
    return Config(sections)


# ------------------------------------------------------------------------------------------------ dialplan


@dataclass
class Step:
    priority: int
    label: str
    app: str
    data: str
    line: int


_EXTEN = re.compile(r"^([^,]+),(\d+|n|hint)(?:\(([A-Za-z0-9_-]+)\))?,([A-Za-z]+)(?:\((.*)\))?$")


@dataclass
class Dialplan:
    contexts: dict[str, dict[str, list[Step]]]
    includes: dict[str, list[str]]
    globals: dict[str, str]

    @classmethod
    def from_text(cls, text: str) -> Dialplan:
        config = parse(text)
        contexts: dict[str, dict[str, list[Step]]] = {}
        includes: dict[str, list[str]] = {}
        global_vars: dict[str, str] = {}
        for section in config.sections:
            if section.is_template or section.templates:
                raise ConfigSyntaxError(f"line {section.line}: templates are not used in extensions.conf")
            if section.name == "general":
                continue
            if section.name == "globals":
                global_vars.update({key: value for key, value, _line in section.entries})
                continue
            if section.name in contexts:
                raise ConfigSyntaxError(f"line {section.line}: context {section.name} defined twice")
            extensions: dict[str, list[Step]] = {}
            last: str | None = None
            includes[section.name] = []
            for key, value, line in section.entries:
                if key == "include":
                    includes[section.name].append(value)
                    continue
                if key not in ("exten", "same"):
                    raise ConfigSyntaxError(f"line {line}: unknown dialplan keyword {key!r}")
                if key == "same":
                    if last is None:
                        raise ConfigSyntaxError(f"line {line}: `same =>` with no extension before it")
                    value = f"{last},{value}"
                match = _EXTEN.match(value)
                if match is None:
                    raise ConfigSyntaxError(f"line {line}: not `pattern,priority,App(args)`: {value!r}")
                pattern, priority, label, app, data = match.groups()
                _check_parentheses(data or "", line)
                steps = extensions.setdefault(pattern, [])
                if priority == "n":
                    if not steps:
                        raise ConfigSyntaxError(f"line {line}: priority n before priority 1")
                    number = steps[-1].priority + 1
                elif priority == "hint":
                    continue
                else:
                    number = int(priority)
                    if steps and number != steps[-1].priority + 1 or not steps and number != 1:
                        raise ConfigSyntaxError(f"line {line}: priority {number} out of order")
                steps.append(Step(number, label or "", app, data or "", line))
                last = pattern
            contexts[section.name] = extensions
        for context, names in includes.items():
            for name in names:
                if name not in contexts:
                    raise ConfigSyntaxError(f"context {context} includes {name}, which does not exist")
        return cls(contexts, includes, global_vars)

    def find(self, context: str, exten: str) -> tuple[str, list[Step]] | None:
        """The extension a dialed number reaches in a context, as Asterisk picks it (exact match first)."""
        own = self.contexts[context]
        if exten in own:
            return context, own[exten]
        for pattern, steps in own.items():
            if pattern.startswith("_") and _pattern_matches(pattern[1:], exten):
                return context, steps
        for included in self.includes.get(context, []):
            found = self.find(included, exten)
            if found:
                return found
        return None

    def walk(self, context: str, exten: str, *, channel: dict[str, str] | None = None, limit: int = 200):
        """The applications a call runs, in order, until it hangs up or falls off the end.

        `channel` holds what the outside world decides: STASISSTATUS after Stasis(), DIALSTATUS after Dial()."""
        outcome = dict(channel or {})
        trace: list[tuple[str, str]] = []
        found = self.find(context, exten)
        if found is None:
            raise LookupError(f"{exten} reaches nothing in {context}")
        frames: list[tuple[str, list[Step], int, dict]] = []
        ctx, steps = found
        index, variables = 0, {**self.globals, "EXTEN": exten}
        for _ in range(limit):
            if index >= len(steps):
                trace.append(("(end)", ""))
                return trace
            step = steps[index]
            data = _substitute(step.data, {**variables, **{k: v for k, v in outcome.items() if k.isupper()}})
            trace.append((step.app, data))
            index += 1
            if step.app == "Hangup":
                return trace
            if step.app == "Stasis":
                variables["STASISSTATUS"] = outcome.get("STASISSTATUS", "SUCCESS")
            elif step.app == "Dial":
                variables["DIALSTATUS"] = outcome.get("DIALSTATUS", "ANSWER")
            elif step.app == "GotoIf":
                condition, _sep, targets = data.partition("?")
                then, _sep, otherwise = targets.partition(":")
                target = then if _evaluate(condition) else otherwise
                if target:
                    ctx, steps, index = self._jump(ctx, steps, target)
            elif step.app == "Goto":
                ctx, steps, index = self._jump(ctx, steps, data)
            elif step.app == "Gosub":
                match = re.match(r"^([^,]+),([^,]+),(\d+)(?:\((.*)\))?$", data)
                if match is None:
                    raise ConfigSyntaxError(f"line {step.line}: Gosub({data}) not understood")
                frames.append((ctx, steps, index, dict(variables)))
                target_ctx, target_exten, _priority, args = match.groups()
                found = self.find(target_ctx, target_exten)
                if found is None:
                    raise LookupError(f"Gosub to {target_exten}@{target_ctx}, which does not exist")
                ctx, steps = found
                index = 0
                for position, arg in enumerate((args or "").split(","), start=1):
                    variables[f"ARG{position}"] = arg
            elif step.app == "Return":
                ctx, steps, index, variables = frames.pop()
        raise AssertionError(f"no hangup within {limit} steps: {trace}")

    def _jump(self, ctx: str, steps: list[Step], target: str):
        parts = target.split(",")
        if len(parts) == 1:
            for position, step in enumerate(steps):
                if step.label == parts[0]:
                    return ctx, steps, position
            raise LookupError(f"label {target} not found in {ctx}")
        if len(parts) == 3:
            found = self.find(parts[0], parts[1])
            if found is None:
                raise LookupError(f"Goto target {target} does not exist")
            return found[0], found[1], int(parts[2]) - 1
        raise ConfigSyntaxError(f"Goto target {target} not understood")


def _check_parentheses(data: str, line: int) -> None:
    depth = 0
    for char in data:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            raise ConfigSyntaxError(f"line {line}: unbalanced parentheses in {data!r}")
    if depth:
        raise ConfigSyntaxError(f"line {line}: unbalanced parentheses in {data!r}")


def _pattern_matches(pattern: str, exten: str) -> bool:
    regex = ""
    position = 0
    while position < len(pattern):
        char = pattern[position]
        if char == "X":
            regex += "[0-9]"
        elif char == "Z":
            regex += "[1-9]"
        elif char == "N":
            regex += "[2-9]"
        elif char == ".":
            regex += ".+"
        elif char == "!":
            regex += ".*"
        elif char == "[":
            end = pattern.index("]", position)
            regex += "[" + re.escape(pattern[position + 1 : end]).replace("\\-", "-") + "]"
            position = end
        else:
            regex += re.escape(char)
        position += 1
    return re.fullmatch(regex, exten) is not None


def _substitute(data: str, variables: dict[str, str]) -> str:
    return re.sub(r"\$\{([A-Za-z0-9_]+)\}", lambda m: variables.get(m.group(1), m.group(0)), data)


def _evaluate(condition: str) -> bool:
    match = re.fullmatch(r'\$\["([^"]*)" = "([^"]*)"\]', condition.strip())
    if match is None:
        raise ConfigSyntaxError(f"expression {condition!r} not understood")
    return match.group(1) == match.group(2)
