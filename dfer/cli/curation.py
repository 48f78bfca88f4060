"""``dfer annotate …`` and ``dfer build candidates``: dataset construction, annotation and labels."""

from __future__ import annotations

from pathlib import Path

from dfer.errors import InputError


def add_parser(commands) -> None:
    annotate = commands.add_parser("annotate", help="annotation workflow (FERV39k), DFEW votes, SDFE-LV intervals")
    steps = annotate.add_subparsers(dest="annotate_command", required=True, metavar="STEP")
    step = steps.add_parser("plan", help="groups with gold items, copied under hidden ids, assigned to crowd workers")
    step.add_argument("--db", required=True, type=Path, help="annotation database (SQLite; created if missing)")
    step.add_argument("--clips", required=True, type=Path, help="CSV/Parquet: clip_id, path, [scene], [gold: the "
                      "professional label of a gold item], [is_gold] — e.g. candidates.csv of dfer build candidates")
    step.add_argument("--workers", required=True, type=Path, help="CSV/Parquet: worker_id, role (crowd|professional)")
    step.add_argument("--tasks-out", required=True, type=Path, help="task list for the platform (CSV)")
    step.add_argument("--group-size", type=int, default=100)
    step.add_argument("--gold-share", type=float, help="share of gold items per group (default 0.05; dfew: 0)")
    step.add_argument("--copies", type=int, help="copies of each group, each for another crowd worker (default 3; "
                      "dfew: 10)")
    step.add_argument("--mode", choices=("ferv39k", "dfew"), default="ferv39k", help="ferv39k: the 26 words with "
                      "gold items; dfew: the 7 classes, 10 votes per clip, no gold (--gold-share 0)")
    step.add_argument("--seed", type=int, default=0)
    step = steps.add_parser("import", help="answers (task, worker, label, time); all rows checked, one transaction")
    step.add_argument("answers", type=Path)
    step.add_argument("--db", required=True, type=Path)
    step.add_argument("--vocabulary", type=Path, help="(word, expression) CSV (default: the 26 FERV39k-style words)")
    step = steps.add_parser("qc", help="per copy: gold correct rate → accept / improper / unacceptable")
    step.add_argument("--db", required=True, type=Path)
    step.add_argument("--low", type=float, default=0.4, help="below: unacceptable (default 0.4)")
    step.add_argument("--high", type=float, default=0.8, help="below: improper (default 0.8)")
    step.add_argument("--out", type=Path, default=Path("qc"), help="folder for copies.csv, workers.csv, "
                      "relabel.csv (improper copies' tasks for professionals) and estimates.json (capture–recapture)")
    step = steps.add_parser("export", help="aggregated labels → a FERV39k- or DFEW-layout dataset (DFEW: vote counts)")
    step.add_argument("--db", required=True, type=Path)
    step.add_argument("--candidates", required=True, type=Path,
                      help="candidates.csv of `dfer build candidates` (clip_id, path, faces, scenes, scene)")
    step.add_argument("--out", required=True, type=Path, help="dataset root to create (must not exist)")
    step.add_argument("--format", choices=("ferv39k", "dfew"), default="ferv39k")
    step.add_argument("--method", default="wta", help="which aggregated labels (default wta)")
    step.add_argument("--test-share", type=float, default=0.2, help="FERV39k: test split share (default 0.2)")
    step.add_argument("--seed", type=int, default=0, help="seed of the splits (default 0)")
    step = steps.add_parser("dump", help="every table of the database (clips, workers, copies, tasks, answers, "
                            "decisions, labels) as CSV or Parquet")
    step.add_argument("--db", required=True, type=Path)
    step.add_argument("--out", required=True, type=Path, help="folder")
    step.add_argument("--format", choices=("csv", "parquet"), default="csv")
    step = steps.add_parser("reassign", help="unacceptable copies back to the crowd: new hidden ids, other workers")
    step.add_argument("--db", required=True, type=Path)
    step.add_argument("--tasks-out", required=True, type=Path, help="the new tasks for the platform (CSV)")
    step.add_argument("--seed", type=int, default=0)
    step = steps.add_parser("aggregate", help="one label per clip: wta (weighted) or a crowd-kit method")
    step.add_argument("--db", required=True, type=Path)
    step.add_argument("--method", default="wta", choices=("wta", "majority", "wawa", "dawid_skene", "glad", "mace"))
    step.add_argument("--professional-weight", type=float, default=2.0)
    step.add_argument("--out", required=True, type=Path, help="labels table (CSV or Parquet)")
    step = steps.add_parser("votes", help="DFEW: vote counts per clip → distributions, single labels, Fleiss' kappa")
    step.add_argument("votes", type=Path, nargs="?", help="CSV/Parquet: an id column and one count column per "
                      "expression (or --db)")
    step.add_argument("--db", type=Path, help="count the votes of an annotation database instead (the web app's "
                      "answers; plan it with --mode dfew for DFEW's 10 votes per clip)")
    step.add_argument("--id-column", default="clip_id")
    step.add_argument("--threshold", type=int, default=6, help="single label when a class has more votes (default 6)")
    step.add_argument("--out", required=True, type=Path, help="table (CSV); the agreement report goes beside it (.json)")
    step = steps.add_parser("tokens", help="a login link per worker and one for the admin (printed once; stored "
                            "hashed; earlier links stop working)")
    step.add_argument("--db", required=True, type=Path)
    step.add_argument("--base-url", default="http://127.0.0.1:8000",
                      help="where annotators reach `dfer annotate serve` (default http://127.0.0.1:8000)")
    step.add_argument("--out", type=Path, help="also write the links to this CSV (worker_id, role, link)")
    step = steps.add_parser("serve", help="the labelling web app over the database (log in with the links of "
                            "`dfer annotate tokens`)")
    step.add_argument("--db", required=True, type=Path)
    step.add_argument("--media", required=True, type=Path, help="folder the clips' paths are relative to; "
                      "nothing outside it is served")
    step.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine "
                      "only; put a reverse proxy with HTTPS in front to open it to others)")
    step.add_argument("--port", type=int, default=8000)
    step.add_argument("--vocabulary", type=Path, help="(word, expression) CSV (default: the 26 FERV39k-style words)")
    step.add_argument("--exports", type=Path, help="where the dashboard's export writes datasets (default: an "
                      "exports/ folder beside the database)")
    step = steps.add_parser("media", help="copy every clip at a constant frame rate for the web app (frame steps "
                            "exact; served instead of the clip); resumable")
    step.add_argument("--db", required=True, type=Path)
    step.add_argument("--media", required=True, type=Path, help="the folder the clips' paths are relative to; the "
                      "copies go to its cfr/")
    step = steps.add_parser("long", help="SDFE-LV marking: long videos copied at a constant frame rate into --media, "
                            "each given to --per-video annotators (5 in the paper) to mark in the web app")
    step.add_argument("--db", required=True, type=Path, help="annotation database (created if missing)")
    step.add_argument("--annotations", required=True, type=Path,
                      help="dfer-long-video JSON listing the videos (fps, frames), e.g. of dfer synth --format long")
    step.add_argument("--videos", required=True, type=Path, help="folder holding <video>.mp4 for each listed video")
    step.add_argument("--workers", required=True, type=Path, help="CSV/Parquet: worker_id[, role]")
    step.add_argument("--media", required=True, type=Path, help="the folder `dfer annotate serve --media` serves")
    step.add_argument("--per-video", type=int, default=5)
    step.add_argument("--seed", type=int, default=0)
    step = steps.add_parser("marks", help="SDFE-LV: the web app's marks as dfer-long-video JSON, the input of "
                            "`dfer annotate intervals`")
    step.add_argument("--db", required=True, type=Path)
    step.add_argument("--out", required=True, type=Path)
    step.add_argument("--all", action="store_true", help="also markings not yet submitted")
    step = steps.add_parser("intervals", help="SDFE-LV: several annotators' intervals → max-voted final intervals")
    step.add_argument("annotations", type=Path, help='JSON {video: {"frames": N, "annotations": {annotator: [[on, off, cat], …]}}}')
    step.add_argument("--out", required=True, type=Path)
    annotate.set_defaults(run=run)

    build_command = commands.add_parser("build", help="dataset construction: FERV39k's four-stage candidate clips")
    build_steps = build_command.add_subparsers(dest="build_command", required=True, metavar="STEP")
    step = build_steps.add_parser(
        "candidates", help="raw videos → candidate clips (scene balance, random cuts, rules, FER-model balance)",
        description="FERV39k's four stages on a manifest of raw videos: (1) balance scenes by duration, "
        "(2) preprocess and cut each video into random 0.5–4 s clips, (3) keep clips with one face of one "
        "person in >= 90%% of frames, no shot cut and a large enough face, capped at oversample × target, "
        "(4) score them with a FER model and keep keep × target with a balanced expression mix. Writes "
        "the cut videos, face crops and scene frames of the final clips, clips.csv (every clip's "
        "decisions), candidates.csv (input of `dfer annotate plan`) and report.html. Resumable.")
    step.add_argument("manifest", type=Path, help="CSV/Parquet of raw videos: path, scene, [keywords], [source], [video]")
    step.add_argument("--out", required=True, type=Path, help="output folder")
    step.add_argument("--config", type=Path, help="YAML with keys candidates: {target, oversample, keep, "
                      "per_video_cap, min_face_size, min_face_share, max_identity_distance, min_seconds, "
                      "max_seconds, cut_distribution, scene_seconds, min_confidence, seed}, target_distribution: "
                      "{expression: share}, model, preprocess: {preprocess options}")
    step.add_argument("--target", type=int, help="clips wanted in the final dataset (default 1000)")
    step.add_argument("--oversample", type=float, help="stage 3 keeps this × target (default 20, as the paper)")
    step.add_argument("--keep", type=float, help="stage 4 keeps this × target (default 2, as the paper)")
    step.add_argument("--per-video-cap", type=int, help="at most this many clips per raw video (default: no cap)")
    step.add_argument("--min-face-size", type=float, help="smallest median face size in pixels (default 48)")
    step.add_argument("--scene-seconds", type=float, help="raw seconds per scene after stage 1 "
                      "(default: the smallest scene's total)")
    step.add_argument("--seed", type=int, help="seed of every random choice (default 0)")
    step.add_argument("--model", help="FER model of stage 4: default (mini-Xception), its .hdf5 weights, "
                      "or a dfer checkpoint (.pt)")
    step.add_argument("--workers", type=int, default=1, help="videos preprocessed in parallel (default 1)")
    step.add_argument("--quiet", action="store_true", help="no progress bars")
    build_command.set_defaults(run=run)


def read_table(path: Path):
    """A CSV or Parquet table (column names lower-cased)."""
    from dfer.data.manifest import load_manifest_table

    return load_manifest_table(path)


def run(args) -> int:
    if args.command == "build":
        return _candidates(args)
    return {"plan": _plan, "import": _import, "qc": _qc, "export": _export, "dump": _dump, "reassign": _reassign,
            "aggregate": _aggregate, "votes": _votes, "intervals": _intervals, "tokens": _tokens,
            "serve": _serve, "long": _long, "marks": _marks, "media": _media}[args.annotate_command](args)


def _media(args) -> int:
    from dfer.web.media import ingest_clips

    counts = ingest_clips(args.db, args.media)
    print(f"{counts['copied']} clips copied at a constant frame rate, {counts['kept']} kept from before, "
          f"{counts['failed']} failed → {args.media / 'cfr'}")
    return 1 if counts["failed"] else 0


def _long(args) -> int:
    from dfer.web.marking import plan_marking

    workers = read_table(args.workers)
    if "worker_id" not in workers.columns:
        raise InputError(f"{args.workers}: expected a worker_id column, found {list(workers.columns)}")
    created = plan_marking(args.db, args.annotations, args.videos, workers.worker_id.astype(str).tolist(), args.media,
                           per_video=args.per_video, seed=args.seed)
    print(f"{len(created)} markings of {len({c['video'] for c in created})} videos for "
          f"{len({c['worker'] for c in created})} annotators (copies in {args.media / 'long'}, database {args.db})")
    return 0


def _marks(args) -> int:
    from dfer.web.marking import export_marks

    count = export_marks(args.db, args.out, submitted_only=not args.all)
    print(f"{count} videos' marks → {args.out} (max-vote them with dfer annotate intervals {args.out} --out …)")
    return 0


def _tokens(args) -> int:
    import pandas as pd

    from dfer.io.atomic import write_table
    from dfer.web.store import issue_tokens

    issued = issue_tokens(args.db)
    base = args.base_url.rstrip("/")
    links = pd.DataFrame([{"worker_id": t["worker_id"] or "", "role": t["role"], "link": f"{base}/login/{t['token']}"}
                          for t in issued])
    for row in links.itertuples():
        print(f"{row.role:13s} {row.worker_id or '(admin)':20s} {row.link}")
    if args.out:
        write_table(args.out, links)
    print(f"{len(links)} links; only their hashes are stored in {args.db}: give each person their own, and run "
          "this again to replace them all")
    return 0


def _serve(args) -> int:
    from dfer.curation.annotation import VOCABULARY
    from dfer.web.app import serve

    serve(args.db, args.media, host=args.host, port=args.port, words_file=args.vocabulary or VOCABULARY,
          exports=args.exports)
    return 0


def _plan(args) -> int:
    from dfer.curation import annotation
    from dfer.io.atomic import write_table

    dfew = args.mode == "dfew"
    gold_share = (0.0 if dfew else 0.05) if args.gold_share is None else args.gold_share
    copies = (10 if dfew else 3) if args.copies is None else args.copies
    options = annotation.PlanOptions(args.group_size, gold_share, copies, args.seed, args.mode)
    tasks = annotation.plan(args.db, read_table(args.clips), read_table(args.workers), options)
    write_table(args.tasks_out, tasks)
    print(f"{tasks['copy'].nunique()} group copies, {len(tasks)} tasks for {tasks.worker.nunique()} workers "
          f"→ {args.tasks_out} (database {args.db})")
    return 0


def _import(args) -> int:
    from dfer.curation import annotation

    words = annotation.vocabulary(args.vocabulary) if args.vocabulary else None
    count = annotation.import_answers(args.db, read_table(args.answers), source=str(args.answers), words=words)
    print(f"imported {count} answers from {args.answers} into {args.db}")
    return 0


def _qc(args) -> int:
    from dfer.curation import annotation
    from dfer.io.atomic import write_json, write_table

    per_copy, per_worker = annotation.quality_control(args.db, args.low, args.high)
    args.out.mkdir(parents=True, exist_ok=True)
    write_table(args.out / "copies.csv", per_copy)
    write_table(args.out / "workers.csv", per_worker)
    write_table(args.out / "groups.csv", annotation.group_report(per_copy, args.db))
    relabel = annotation.relabel_tasks(args.db)
    write_table(args.out / "relabel.csv", relabel)
    estimates = annotation.error_estimates(args.db, args.low)
    write_json(args.out / "estimates.json", estimates)
    print(per_copy.decision.value_counts().reindex(["accept", "improper", "unacceptable"], fill_value=0).to_string())
    print(f"bad copies (capture–recapture: gold check caught {estimates['caught_by_gold']}, agreement check "
          f"{estimates['caught_by_agreement']}, both {estimates['caught_by_both']}): about "
          f"{estimates['bad_copies_estimate']:.1f} in all, {estimates['bad_copies_uncaught']:.1f} caught by neither")
    print(f"per copy, worker and group: {args.out / 'copies.csv'}, {args.out / 'workers.csv'}, "
          f"{args.out / 'groups.csv'}; for professionals: "
          f"{args.out / 'relabel.csv'} ({len(relabel)} tasks); estimates: {args.out / 'estimates.json'}; "
          "send unacceptable copies back with `dfer annotate reassign`")
    return 0


def _export(args) -> int:
    from dfer.curation.export import export_dataset
    from dfer.io.atomic import write_json

    facts = export_dataset(args.db, read_table(args.candidates), args.out, args.format, args.method, args.seed,
                           args.test_share)
    write_json(Path(f"{args.out}.export.json"), facts)
    print(f"{facts['clips']} labelled clips ({args.method}) → {args.format} dataset {args.out}: "
          + ", ".join(f"{k} {v}" for k, v in facts["per_class"].items() if v)
          + f"\n  check it with: dfer data check {args.out}")
    return 0


def _dump(args) -> int:
    from dfer.curation import annotation

    written = annotation.dump(args.db, args.out, f".{args.format}")
    print(f"{len(written)} tables → {args.out} ({', '.join(p.name for p in written)})")
    return 0


def _reassign(args) -> int:
    from dfer.curation import annotation
    from dfer.io.atomic import write_table

    tasks = annotation.reassign(args.db, args.seed)
    write_table(args.tasks_out, tasks)
    print(f"{tasks['copy'].nunique() if len(tasks) else 0} unacceptable copies sent back to the crowd: "
          f"{len(tasks)} tasks → {args.tasks_out}")
    return 0


def _aggregate(args) -> int:
    from dfer.curation import annotation
    from dfer.io.atomic import write_table

    result = annotation.aggregate_labels(args.db, args.method, args.professional_weight)
    write_table(args.out, result)
    print(f"{len(result)} clips labelled by {args.method} → {args.out}\n" + result.label.value_counts().to_string())
    return 0


def _votes(args) -> int:
    from dfer.curation.votes import database_votes, summarise_votes
    from dfer.io.atomic import write_json, write_table

    if (args.votes is None) == (args.db is None):
        raise InputError("give either a votes table or --db")
    votes = database_votes(args.db) if args.db else read_table(args.votes).set_index(args.id_column)
    table, report = summarise_votes(votes, args.threshold)
    write_table(args.out, table.reset_index())
    write_json(args.out.with_suffix(".json"), report)
    print(f"{report['single_labeled']} of {report['clips']} clips single-labeled (> {args.threshold} votes); "
          f"Fleiss' kappa {report['kappa_all']:.3f} overall, {report['kappa_single']:.3f} single-labeled → {args.out}")
    return 0


def _intervals(args) -> int:
    import json

    from dfer.data.intervals import aggregate_file
    from dfer.errors import DatasetError
    from dfer.io.atomic import write_json

    try:
        data = json.loads(args.annotations.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise DatasetError(args.annotations, f"cannot read as JSON ({error})") from None
    final = aggregate_file(data, str(args.annotations))
    write_json(args.out, final)
    videos = final["videos"] if "format" in final else final  # a dfer-long-video file, or {video: …}
    count = sum(len(entry["final"] if "final" in entry else entry["intervals"]) for entry in videos.values())
    print(f"{len(videos)} videos, {count} final intervals → {args.out}")
    return 0


def _candidates(args) -> int:
    from dfer.curation.pipeline import build_candidates, load_options

    options = load_options(args.config, args.model, **{name: getattr(args, name) for name in (
        "target", "oversample", "keep", "per_video_cap", "min_face_size", "scene_seconds", "seed")})
    summary = build_candidates(args.manifest, args.out, options, workers=args.workers, progress=not args.quiet)
    print(summary)
    print(f"  decisions: {Path(summary.out) / 'clips.csv'}; candidates: {Path(summary.out) / 'candidates.csv'}; "
          f"report: {Path(summary.out) / 'report.html'}")
    return 0
