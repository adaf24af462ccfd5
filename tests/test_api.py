from shiporskip.catalog.models import Tool


def test_tools_list_with_panel_verdicts(client, seed_pair):
    data = client.get("/api/tools").json()
    assert [t["slug"] for t in data] == ["code-llama-4", "mistral-3-small-22b"]
    reviews = Tool.objects.get(slug="code-llama-4").current_run.reviews.all()
    ships = sum(r.verdict == "ship" for r in reviews)
    assert data[0]["panel"]["ship"] == ships and data[0]["panel"]["skip"] == 4 - ships
    assert data[0]["panel"]["ship_share"] == round(100 * ships / 4)
    assert client.get("/api/tools", {"category": "llm-apis"}).json() == []


def test_tool_detail_has_facts_and_reviews_in_persona_order(client, seed_pair):
    data = client.get("/api/tools/code-llama-4").json()
    assert data["facts"]["parameters"] == "up to 70B"
    assert [r["persona"] for r in data["reviews"]] == ["builder", "skeptic", "futurist", "founder"]
    assert data["reviews"][0]["sections"][0]["key"] == "primitive"
    assert client.get("/api/tools/nope").status_code == 404


def test_compare_is_canonical_and_refuses_bad_pairs(client, seed_pair):
    data = client.get("/api/compare/mistral-3-small-22b/code-llama-4").json()
    assert data["title"] == "Code Llama 4 vs Mistral 3 Small (22B)"
    assert len(data["scorecard"]) == 4
    same = client.get("/api/compare/code-llama-4/code-llama-4")
    assert same.status_code == 404 and "two different tools" in same.json()["detail"]
    assert client.get("/api/compare/code-llama-4/nope").status_code == 404


def test_personas_and_offline_docs(client, personas):
    assert [p["key"] for p in client.get("/api/personas").json()][0] == "builder"
    docs = client.get("/api/docs")
    assert docs.status_code == 200
    assert "/static/ninja/" in docs.content.decode()  # served locally, not from a CDN


def test_local_model_paths_stay_private_in_the_api(client, seed_pair):
    from shiporskip.panel.models import Review

    Review.objects.filter(tool__slug="code-llama-4").update(model="llamacpp//srv/models/qwen.gguf")
    reviews = client.get("/api/tools/code-llama-4").json()["reviews"]
    assert {r["model"] for r in reviews} == {"llamacpp/qwen.gguf"}
