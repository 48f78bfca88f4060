"""50 annotators answering 5,000 clips at once against the real server: nothing lost or doubled."""

from collections import Counter

from bench.annotate_load import make_project, run_load, start_server, stored_answers
from dfer.curation.annotation import vocabulary


def test_concurrent_annotators_lose_and_duplicate_nothing(tmp_path):
    database, media, tokens, tasks = make_project(tmp_path, annotators=50, answers=5000)
    assert tasks.worker.nunique() == 50 and len(tasks) == 5000
    words = [w for w, e in vocabulary().items() if e != "PASS"]
    server, base = start_server(database, media)
    try:
        result = run_load(base, tokens, tasks, words)  # 5% of the answers sent twice
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert Counter(result["statuses"]) == {200: len(result["statuses"])} and len(result["statuses"]) > 5000
    stored = stored_answers(database)
    assert len(stored) == len({(task, worker) for task, worker, _ in stored}) == 5000  # none doubled, none lost
    assert {(task, worker): word for task, worker, word in stored} == result["intended"]
