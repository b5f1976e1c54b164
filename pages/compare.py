"""Compare: what the base, the loaded adapter (amplified or not) and finished runs say to the same prompts, side by
side as the replies come; exported as Markdown or HTML; and where two of them differ, token by token."""

from __future__ import annotations

import pandas as pd
import streamlit as st
import uicache
import uiplots
import uistate

from grasp_core import (
    BASE,
    MAX_MODELS,
    CompareConfig,
    GraspError,
    Transcript,
    compare_replies,
    default_prompt_file,
    lineup,
    list_runs,
    load_prompts,
    prompt_text,
    save_in_workspace,
    to_html,
    to_markdown,
    typed_prompts,
)

st.title("Compare: what the models say")
sel = uistate.require_model_choice()
st.caption(
    "Replies of each model to the same prompts: greedy, and sampled with a fixed seed per prompt (every model draws "
    "from the same seed). Models load one at a time."
)

# ---------------------------------------------------------------- which models
done = [r for r in reversed(list_runs()) if r.status.state == "done"]
run_names = {r.id: f"run {r.id} · {r.config.method} · seed {r.config.seed}" for r in done}
names = {BASE: "base", sel.adapter: f"loaded adapter ({sel.adapter.rstrip('/').rsplit('/', 1)[-1]})", **run_names}
picked = st.multiselect(
    "Models",
    list(names),
    default=[BASE, sel.adapter],
    format_func=lambda k: names.get(k, k),
    max_selections=MAX_MODELS,
    key="compare_models",
    help="Finished runs come from the run registry (a sweep's cells are runs too: their ids are in results.csv).",
)
a1, a2 = st.columns([1, 3])
amplify = a1.checkbox("Also the loaded adapter amplified", key="compare_amplify")
scale = uistate.scale_input(
    a2, "scale s (1 = as trained, 0 = base, -1 = inverted)", "compare_scale", value=2.0, disabled=not amplify
)
specs = tuple(picked) + ((f"{sel.adapter}@{scale:g}",) if amplify else ())

# ---------------------------------------------------------------- which prompts
source = st.radio("Prompts", ["unrelated questions", "typed", "prompt file"], horizontal=True, key="compare_source")
n_prompts = 2
typed = path = ""
if source == "typed":
    typed = st.text_area("One prompt a line", key="compare_typed", placeholder="How do I keep basil fresh?")
else:
    path = st.text_input(
        "Prompt file (JSONL prompt / messages / text, or one prompt a line)",
        value=str(default_prompt_file(sel.adapter)),
        key="compare_file",
        disabled=source == "unrelated questions",
    )
    n_prompts = int(st.number_input("first N prompts", 1, 16, value=2, key="compare_n"))
c1, c2, c3, c4 = st.columns(4)
max_new = int(c1.number_input("new tokens", 1, 256, value=48, key="compare_tokens"))
samples = int(c2.number_input("sampled replies", 0, 4, value=1, key="compare_samples"))
temperature = float(c3.number_input("temperature", 0.1, 2.0, value=1.0, step=0.1, key="compare_temperature"))
seed = int(c4.number_input("seed", 0, 10_000, value=0, key="compare_seed"))


def _show(t: Transcript) -> None:
    """Per prompt, a column per model with its greedy and sampled replies."""
    for i, chat in enumerate(t.prompts):
        st.markdown(f"**{i + 1}. {prompt_text(chat)}**")
        for col, m in zip(st.columns(len(t.models)), t.models, strict=True):
            with col.container(border=True):
                st.markdown(f"**{m}**")
                for kind in t.config.kinds:
                    text = t.reply(i, kind, m)
                    st.caption(kind)
                    st.write("…" if text is None else text or "(empty)")


if st.button("Compare", key="compare_go", type="primary"):
    try:
        config = CompareConfig(max_new_tokens=max_new, samples=samples, temperature=temperature, seed=seed)
        models = lineup(list(specs), sel.base)
        chats = typed_prompts(typed.splitlines()) if source == "typed" else load_prompts(path, limit=n_prompts)
        t = Transcript(sel.base, [m.label for m in models], chats, config)
        live = st.empty()
        for reply in compare_replies(models, sel.base, chats, config, progress=False):
            t.replies.append(reply)
            with live.container():  # redrawn as each reply comes
                _show(t)
        live.empty()
    except GraspError as e:
        st.error(str(e))
    else:
        uistate.state().compared, uistate.state().compared_specs = t, specs

t = uistate.state().compared
if t is not None:
    _show(t)
    e1, e2, e3 = st.columns(3)
    e1.download_button("Markdown", to_markdown(t), "compare.md", "text/markdown", key="compare_md")
    e2.download_button("HTML", to_html(t), "compare.html", "text/html", key="compare_html")
    if e3.button("Save in the workspace", key="compare_save"):
        saved = save_in_workspace(t)
        st.success("Saved " + " and ".join(str(p) for p in saved))

    # ------------------------------------------------------------ where two of them differ
    st.divider()
    st.subheader("Where two models differ, token by token")
    st.caption(
        "KL(P || Q) of the two models' next-token distributions after each token of the text (nats); "
        "the deeper the red, the more the next token's distribution differs."
    )
    k1, k2 = st.columns(2)
    labels = dict(zip(t.models, uistate.state().compared_specs, strict=False))
    p = k1.selectbox("P", t.models, index=min(1, len(t.models) - 1), key="kl_p")
    q = k2.selectbox("Q", t.models, index=0, key="kl_q")
    text = st.text_area("Text", value=t.reply(0, "greedy", p) or prompt_text(t.prompts[0]), key="kl_text", height=100)
    if st.button("Per-token KL", key="kl_go"):
        uistate.state().kl_for = (labels[p], labels[q], text)
    if uistate.state().kl_for == (labels[p], labels[q], text):
        try:
            kl = uicache.model_kl_of(sel.base, labels[p], labels[q], text)
        except GraspError as e:
            st.error(str(e))
        else:
            st.html(uiplots.token_html(kl.tokens, kl.kl, max(kl.kl, default=1.0) or 1.0))
            top = pd.DataFrame(kl.top(10), columns=["position", "after token", "KL"])
            st.dataframe(top, hide_index=True, key="kl_top")
