from collections import Counter

from django.shortcuts import get_object_or_404, render

from shiporskip.catalog.models import Category
from shiporskip.pages import public
from shiporskip.panel.models import Persona, Review


@public
def personas(request):
    return render(request, "panel/personas.html", {"personas": Persona.objects.active()})


@public
def persona(request, key):
    item = get_object_or_404(Persona, key=key)
    reviews = list(Review.objects.current().filter(persona=item)
                   .select_related("tool__category", "persona").order_by("tool__name"))
    tally = Counter((r.tool.category.name, r.verdict) for r in reviews)
    categories = sorted({r.tool.category for r in reviews}, key=lambda c: c.name)
    chosen = request.GET.get("category", "")
    shown = [r for r in reviews if not chosen or r.tool.category.slug == chosen]
    return render(request, "panel/persona.html", {
        "persona": item, "reviews": shown, "chosen": chosen,
        "tally": [(c, tally[(c.name, "ship")], tally[(c.name, "skip")]) for c in categories],
        "all_categories": categories or Category.objects.all(),
    })
