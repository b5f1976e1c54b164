"""Load: choose the base model and the LoRA adapter; see what the adapter touches."""

from __future__ import annotations

import streamlit as st
import uicache
import uistate

from grasp_core import BUNDLED, MAX_ZIP_BYTES, GraspError, demo_adapters, extract_adapter_zip, n_layers

st.title("Load a base and an adapter")
current = uistate.model_choice()

left, right = st.columns(2)
with left:
    st.subheader("Base model")
    base_kind = st.radio("Base from", ["bundled alias", "local folder", "hub id"], horizontal=True, key="base_kind")
    if base_kind == "bundled alias":
        base = st.selectbox("Alias", sorted(BUNDLED), key="base_alias")
    elif base_kind == "local folder":
        base = st.text_input("Model folder (config.json + safetensors)", key="base_folder")
    else:
        base = st.text_input("Hub id (owner/name; needs network access)", key="base_hub")
    if current is not None and base_kind == "bundled alias" and current.base not in BUNDLED:
        st.caption(f"currently loaded base: `{current.base}`")

with right:
    st.subheader("Adapter")
    demos = demo_adapters()
    kinds = (["demo organism"] if demos else []) + ["local folder", "upload .zip"]
    adapter_kind = st.radio("Adapter from", kinds, horizontal=True, key="adapter_kind")
    adapter_path: str | None = None
    if adapter_kind == "demo organism":
        name = st.selectbox("Organism", list(demos), key="demo_name")
        adapter_path = str(demos[name]) if name else None
    elif adapter_kind == "local folder":
        default = current.adapter if current is not None else ""
        adapter_path = st.text_input("PEFT LoRA folder", value=default, key="adapter_folder") or None
    else:
        up = st.file_uploader(
            f"Zip of a PEFT LoRA folder (at most {MAX_ZIP_BYTES // 2**20} MB)", key="adapter_zip", type=None
        )
        if up is not None:
            try:
                adapter_path = str(extract_adapter_zip(up.getvalue(), up.name))
                st.caption(f"extracted to `{adapter_path}`")
            except GraspError as e:
                st.error(str(e))

if st.button("Load", type="primary", key="load"):
    if not base:
        st.error("Choose a base model first.")
    elif not adapter_path:
        st.error("Choose an adapter first.")
    else:
        try:
            stamp = uicache.adapter_stamp(adapter_path)
            uicache.adapter(base, adapter_path, stamp)  # validates against the base config, fast
            uicache.model(base, adapter_path, stamp)
        except GraspError as e:
            st.error(str(e))
        except (OSError, ValueError) as e:  # transformers / peft errors that grasp_core does not name itself
            st.error(f"could not load base {base!r} with adapter {adapter_path}: {e}")
        else:
            uistate.set_model_choice(uistate.ModelChoice(base, adapter_path))
            current = uistate.model_choice()

if current is not None:
    try:
        stamp = uicache.adapter_stamp(current.adapter)
        ad = uicache.adapter(current.base, current.adapter, stamp)
        cfg = uicache.base_config(current.base)
    except GraspError as e:
        st.error(str(e))
    else:
        s = ad.summary()
        st.subheader("Summary")
        with st.container(border=True):
            c = st.columns(5)
            c[0].metric("rank r", s["rank"])
            c[1].metric("modules", len(ad.modules))
            c[2].metric("layers", f"{len(ad.layers)} / {n_layers(cfg)}")
            c[3].metric("parameters", f"{s['n_params'] / 1e6:.2f} M")
            c[4].metric("adapter size", f"{ad.size_bytes / 2**20:.1f} MB")
            kinds_w = sorted({m.kind for m in ad.side("write")})
            kinds_r = sorted({m.kind for m in ad.side("read")})
            st.markdown(
                f"**base** `{current.base}` (adapter made for `{ad.base}`)  \n"
                f"**adapter** `{ad.path}` · hash `{ad.hash}` · alpha {s['lora_alpha']}  \n"
                f"**targets** {', '.join(sorted({m.kind for m in ad.modules.values()}))}  \n"
                f"**write modules** {', '.join(kinds_w) or '-'} · **read modules** {', '.join(kinds_r) or '-'}  \n"
                f"**layers** {', '.join(map(str, ad.layers))}"
            )
            if ad.unclassified:
                st.warning(
                    f"{len(ad.unclassified)} adapted modules are neither write nor read: {', '.join(ad.unclassified[:5])}"
                )
