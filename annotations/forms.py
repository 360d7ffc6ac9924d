"""Forms for pages. Validation only; the writes happen in services."""

from __future__ import annotations

from django import forms
from django.core.validators import RegexValidator

from .models import Project

LANGUAGE_CHOICES = [("en", "English"), ("ar", "Arabic"), ("fr", "French"), ("ru", "Russian")]


class ProjectForm(forms.ModelForm):
    slug = forms.SlugField(
        max_length=64,
        validators=[RegexValidator(r"^[a-z0-9][a-z0-9-]*$", "Lowercase letters, digits, hyphens.")],
        help_text="Short id used in URLs and the API.",
    )
    languages = forms.MultipleChoiceField(
        choices=LANGUAGE_CHOICES, widget=forms.CheckboxSelectMultiple, required=False
    )
    overlap = forms.IntegerField(min_value=1, max_value=20, initial=2)
    lease_seconds = forms.IntegerField(
        min_value=30, max_value=86400, initial=600, label="Lease length (seconds)"
    )
    likelihood_threshold = forms.FloatField(
        min_value=0, max_value=1, initial=0.5, help_text="Used when only likely claims are queued."
    )

    class Meta:
        model = Project
        fields = [
            "name",
            "slug",
            "description",
            "languages",
            "overlap",
            "lease_seconds",
            "queue_order",
            "queue_filter",
            "likelihood_threshold",
            "auto_settle",
            "suggestions",
        ]


class ProjectSettingsForm(ProjectForm):
    class Meta(ProjectForm.Meta):
        fields = [f for f in ProjectForm.Meta.fields if f != "slug"]

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields.pop("slug", None)


# --- schema, members, registry, progress (admin pages) ----------------------------------------


class SchemaForm(forms.Form):
    """A new version of the label schema and guidelines. The JSON is checked by
    annotations.schema.validation.check_schema; errors name the field at fault."""

    schema = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 24, "spellcheck": "false"}),
        help_text="The label schema as JSON (see label-schema.md).",
    )
    guidelines = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 12, "dir": "auto"}),
        required=False,
        help_text="Markdown shown to annotators beside the form.",
    )
    note = forms.CharField(
        max_length=300, required=False, help_text="What changed, for the version history."
    )

    def clean_schema(self) -> dict[str, object]:
        import json

        from .schema.validation import SchemaError, check_schema

        text = self.cleaned_data["schema"]
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(
                f"Not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}."
            ) from exc
        try:
            check_schema(data)
        except SchemaError as exc:
            raise forms.ValidationError(str(exc)) from exc
        return data


ROLE_CHOICES = [("annotator", "Annotator"), ("reviewer", "Reviewer"), ("admin", "Project admin")]


class MemberAddForm(forms.Form):
    """Add an existing user, or create a new account, with a role in this project.

    A password may be set only when the account is created here (a one-time initial password
    the admin passes on; the user should change it). Without one the account has an unusable
    password and the admin sets it with `manage.py workbench_user create NAME --password-stdin`.
    Existing users' passwords are never changed from this page."""

    username = forms.CharField(
        max_length=150,
        validators=[RegexValidator(r"^[\w.@+-]+$", "Letters, digits and @ . + - _ only.")],
    )
    role = forms.ChoiceField(choices=ROLE_CHOICES, initial="annotator")
    create = forms.BooleanField(
        required=False, label="Create the account if it does not exist", initial=True
    )
    email = forms.EmailField(required=False, help_text="Only used for a new account.")
    password = forms.CharField(
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        label="Initial password (new accounts only, optional)",
        help_text="Leave empty to set it later with the command line.",
    )


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(choices=ROLE_CHOICES)


class OutletForm(forms.ModelForm):
    class Meta:
        from .models import Outlet

        model = Outlet
        fields = ["name", "country", "kind", "affiliation", "reviewed"]
        widgets = {
            "name": forms.TextInput(attrs={"dir": "auto"}),
            "affiliation": forms.TextInput(attrs={"dir": "auto"}),
        }


def source_type_choices() -> list[tuple[str, str]]:
    from .schema.validation import default_schema

    for field in default_schema()["claim"]["fields"]:
        if field["name"] == "source_type":
            return [("", "—")] + [
                (c["value"], c.get("label", c["value"])) for c in field["choices"]
            ]
    return [("", "—")]


class NamedSourceForm(forms.ModelForm):
    source_type = forms.ChoiceField(choices=source_type_choices, required=False)

    class Meta:
        from .models import NamedSource

        model = NamedSource
        fields = ["name", "source_type", "affiliation", "country", "reviewed"]
        widgets = {
            "name": forms.TextInput(attrs={"dir": "auto"}),
            "affiliation": forms.TextInput(attrs={"dir": "auto"}),
        }


class ReassignForm(forms.Form):
    username = forms.CharField(max_length=150, label="Give to annotator")
