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
    lease_seconds = forms.IntegerField(min_value=30, max_value=86400, initial=600)

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
