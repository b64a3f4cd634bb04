"""Run the IDA loop with your own Hugging Face causal LM as the proxy X_0.

Any local model directory that ``AutoModelForCausalLM.from_pretrained`` and
``AutoTokenizer.from_pretrained`` load works (nothing is downloaded: local files only).  Here we
build one from scratch so the example runs anywhere: a tiny Llama-architecture model with a
byte-level BPE tokenizer trained on the problem texts, saved with ``save_pretrained``.  The
prompt and step format the proxy learns are documented in ``ida_ns/proxy/tokenizer.py`` and
README "The IDA loop"; every step it proposes still passes the verify gate.

    python examples/own_hf_model.py [RUN_DIR]
"""

import sys
import tempfile
from pathlib import Path


def build_model(directory: Path) -> None:
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    corpus = [p.read_text() for p in (Path(__file__).parent / "problems").glob("*.smt2")]
    corpus += ["induct x", "cases xs", "lemma (forall ((x Nat)) (= (plus x Z) x))", "direct"]
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.train_from_iterator(corpus, trainers.BpeTrainer(
        vocab_size=400, special_tokens=["<unk>", "<pad>", "<s>", "</s>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>",
                                   bos_token="<s>", eos_token="</s>")
    config = LlamaConfig(vocab_size=len(fast), hidden_size=64, intermediate_size=128,
                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=4,
                         max_position_embeddings=512)
    LlamaForCausalLM(config).save_pretrained(directory)
    fast.save_pretrained(directory)


def main(run_dir: str) -> int:
    from ida_ns import RunConfig, run

    model_dir = Path(tempfile.mkdtemp(prefix="my-llama-"))
    build_model(model_dir)
    # the tiny problem set, one round: amplify with H, distill into *your* model, evaluate
    cfg = RunConfig(tiny=True, rounds=1, epochs=2, workers=1, proxy=str(model_dir),
                    out=run_dir)
    rows = run(cfg)
    last = rows[-1]
    print(f"round {last['round']}: held-out H alone {last['heldout_H']}, proxy+H "
          f"{last['heldout_solved']}, proxy alone {last['proxy_only_solved']} of "
          f"{last['heldout_total']}")
    gen = Path(run_dir, "proxies", "gen-001")
    assert (gen / "model.safetensors").exists() and (gen / "tokenizer.json").exists()
    print(f"your model, distilled on verified pairs only: {gen}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="run-")))
