"""``dfer annotate serve``: the labelling web app over the annotation database (Starlette, ASGI).

- ``GET /login/<token>`` — the link ``dfer annotate tokens`` prints; sets an HttpOnly,
  SameSite=Strict session cookie and sends the caller home.
- ``GET /`` — an annotator's sets (copies) and videos with progress; for the admin, the dashboard
  (progress per set and annotator, live gold rates, QC decisions, Fleiss' κ so far, the
  capture–recapture estimate) with ``POST /admin/qc`` (the submitted sets), ``/admin/reassign``
  and ``/admin/export`` (labels aggregated, a dataset written under ``exports``) buttons.
- ``GET /copy/<copy>`` — the labelling page; ``GET /api/copies/<copy>/tasks`` its tasks (hidden ids
  and the caller's answers only), ``PUT /api/answers/<task>`` ``{"word"}`` saves one answer as it
  is given, ``POST /api/copies/<copy>/submit`` declares the set finished.
- ``GET /media/<task>`` — the task's clip, from ``--media`` only, with HTTP Range requests.

Every request is checked against its caller: another annotator's set, task or clip answers 404, as
an unknown one does; clip ids, paths, gold labels and other annotators' answers never leave the
server. Each request opens its own SQLite connection (WAL), and each answer is one transaction.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from urllib.parse import parse_qs, urlencode

import pandas as pd
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from dfer import labels
from dfer.curation.annotation import (VOCABULARY, aggregate_labels, annotation_mode, error_estimates, quality_control,
                                     reassign, vocabulary)
from dfer.curation.export import export_dataset
from dfer.data.manifest import load_manifest_table
from dfer.errors import DatasetError, InputError
from dfer.web import dashboard, marking, pages
from dfer.web.store import Caller, NotFound, Refused, caller, copies, inside, login, media_file, open_store, save_answer
from dfer.web.store import submit, tasks

COOKIE = "dfer_session"
STATIC = Path(__file__).parent / "static"


def create_app(database: str | Path, media: str | Path, words_file: str | Path = VOCABULARY,
               exports: str | Path | None = None) -> Starlette:
    """The app serving ``database`` (made by ``dfer annotate plan``) and the clips under ``media``;
    the page offers the words of ``words_file`` (FERV39k mode) or the 7 classes (a database planned
    with ``--mode dfew``)."""
    database, media = Path(database), Path(media)
    if not media.is_dir():
        raise DatasetError(media, "--media must be the folder holding the clips")
    exports = Path(exports) if exports is not None else database.parent / "exports"
    with closing(open_store(database)) as db:
        mode = annotation_mode(db)
    if mode == "dfew":  # DFEW: each annotator votes one of the 7 classes
        words = {name: name for name in labels.EXPRESSIONS}
        choices = [(name, name) for name in labels.EXPRESSIONS]
    else:
        words = vocabulary(words_file)
        table = pd.read_csv(words_file, dtype=str)
        choices = [(str(w).strip().lower(), str(e).strip().lower()) for w, e in zip(table.word, table.expression)]
    keys = pages.shortcuts(choices, numbered=mode == "dfew")

    def connection() -> sqlite3.Connection:
        return open_store(database)

    def who(request: Request, db: sqlite3.Connection) -> Caller | None:
        return caller(db, request.cookies.get(COOKIE))

    def log_in(request: Request) -> Response:
        with closing(connection()) as db:
            session = login(db, request.path_params["token"])
        if session is None:
            return HTMLResponse(pages.message("not a valid link", "This login link is not valid (any more). Ask the "
                                              "person who runs the annotation for a new one."), status_code=403)
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(COOKIE, session, httponly=True, samesite="strict", path="/",
                            secure=request.url.scheme == "https")
        return response

    def home(request: Request) -> Response:
        with closing(connection()) as db:
            person = who(request, db)
            if person is None:
                return _login_needed()
            if person.is_admin:
                return HTMLResponse(admin_page(db, request.query_params.get("done", "")))
            return HTMLResponse(pages.copy_list(person.worker_id, copies(db, person), marking.markings(db, person)))

    def labelling(request: Request) -> Response:
        copy_id = request.path_params["copy"]
        with closing(connection()) as db:
            person = who(request, db)
            if person is None:
                return _login_needed()
            try:
                tasks(db, person, copy_id)
            except NotFound:
                return HTMLResponse(pages.message("not found", "There is no such set of clips."), status_code=404)
        return HTMLResponse(pages.labelling(copy_id, choices, keys))

    def api(handler, reads_body: bool = False):
        """A JSON endpoint: the body read (400 unless a JSON object), the caller checked (401), then
        ``handler(path parameters, db, caller, body)`` in a worker thread; NotFound → 404,
        Malformed → 400, Refused → 409."""
        def call(parameters: dict, session: str | None, body: dict | None) -> Response:
            with closing(connection()) as db:
                person = caller(db, session)
                if person is None or person.is_admin:
                    return JSONResponse({"error": "log in with your link first"}, status_code=401)
                try:
                    return JSONResponse(handler(parameters, db, person, body))
                except NotFound:
                    return JSONResponse({"error": "not found"}, status_code=404)
                except Malformed as problem:
                    return JSONResponse({"error": str(problem)}, status_code=400)
                except Refused as refusal:
                    return JSONResponse({"error": str(refusal)}, status_code=409)

        async def endpoint(request: Request) -> Response:
            body = None
            if reads_body:
                try:
                    body = await request.json()
                except ValueError:
                    body = None
                if not isinstance(body, dict):
                    return JSONResponse({"error": "expected a JSON object"}, status_code=400)
            return await run_in_threadpool(call, dict(request.path_params), request.cookies.get(COOKIE), body)
        return endpoint

    def copy_tasks(parameters, db, person, body):
        return {"tasks": tasks(db, person, parameters["copy"])}

    def answer(parameters, db, person, body):
        if not isinstance(body.get("word"), str):
            raise Malformed('expected {"word": "…"}')
        return {"status": save_answer(db, person, parameters["task"], body["word"], words)}

    def finish(parameters, db, person, body):
        submit(db, person, parameters["copy"])
        return {"status": "submitted"}

    def video_marks(parameters, db, person, body):
        return marking.marking(db, person, parameters["marking"])

    def add_mark(parameters, db, person, body):
        return marking.save_mark(db, person, parameters["marking"], body)

    def change_mark(parameters, db, person, body):
        return marking.save_mark(db, person, parameters["marking"], body, _mark_id(parameters))

    def remove_mark(parameters, db, person, body):
        marking.delete_mark(db, person, parameters["marking"], _mark_id(parameters))
        return {"status": "deleted"}

    def finish_marking(parameters, db, person, body):
        marking.submit_marking(db, person, parameters["marking"])
        return {"status": "submitted"}

    def admin_page(db: sqlite3.Connection, note: str) -> str:
        per_copy = dashboard.copy_progress(db)
        kappa, rated = dashboard.kappa_so_far(db)
        figures = {"sets": f"{len(per_copy)} ({int(per_copy.submitted.sum())} submitted)",
                   "answers": f"{int(per_copy.answered.sum())} of {int(per_copy.total.sum())}",
                   "Fleiss' κ so far": "–" if rated == 0 else f"{kappa:.3f} over {rated} clips"}
        decided = per_copy.decision[per_copy.decision != ""].value_counts()
        if len(decided):
            figures["QC"] = ", ".join(f"{count} {decision}" for decision, count in decided.items())
            try:
                estimate = error_estimates(database)
                figures["bad sets (capture–recapture)"] = (f"{estimate['bad_copies_estimate']} estimated, "
                                                           f"{estimate['bad_copies_uncaught']} uncaught")
            except InputError:
                pass
        tables = {"sets": per_copy.drop(columns=["gold_answered", "gold_correct"]),
                  "annotators": dashboard.annotator_progress(per_copy)}
        videos = dashboard.marking_progress(db)
        if len(videos):
            tables["long videos (SDFE-LV marking)"] = videos
        return pages.dashboard(figures, tables, note)

    def admin_action(action):
        """A dashboard button: the admin only; runs ``action()`` and goes back with what it did."""
        def endpoint(request: Request) -> Response:
            with closing(connection()) as db:
                person = who(request, db)
            if person is None or not person.is_admin:
                return HTMLResponse(pages.message("admin only", "This needs the admin's link."), status_code=403)
            try:
                note = action()
            except InputError as error:
                note = f"not done: {error}"
            return RedirectResponse(f"/?{urlencode({'done': note})}", status_code=303)
        return endpoint

    def run_qc() -> str:  # a set is judged once its annotator has submitted it
        with closing(connection()) as db:
            submitted = [c for (c,) in db.execute("SELECT copy_id FROM submissions")]
        per_copy, _ = quality_control(database, copies=submitted)
        counts = per_copy.decision.value_counts()
        return "quality control: " + (", ".join(f"{n} {d}" for d, n in counts.items()) or "no answered sets yet")

    def run_reassign() -> str:
        created = reassign(database)
        return f"{created['copy'].nunique() if len(created) else 0} sets sent back to the crowd ({len(created)} clips)"

    async def export(request: Request) -> Response:
        """The dashboard's export: labels aggregated (weighted winner-take-all) and written as a
        dataset named by the form under ``exports``, from a candidates table under ``media``."""
        form = {key: values[0] for key, values in parse_qs((await request.body()).decode()).items()}

        def run() -> str:
            candidates = inside(media, form.get("candidates", ""), "candidates")
            name = form.get("name", "")
            if not name or Path(name).name != name or name.startswith("."):
                raise InputError(f"dataset name {name!r}: give a plain folder name")
            aggregate_labels(database, "wta")
            exports.mkdir(parents=True, exist_ok=True)
            facts = export_dataset(database, load_manifest_table(candidates), exports / name,
                                   form.get("format", "ferv39k"))
            return f"exported {facts['clips']} labelled clips as {form.get('format', 'ferv39k')} to {exports / name}"

        def checked() -> str:
            try:
                return run()
            except NotFound:
                return f"not done: no candidates table {form.get('candidates', '')!r} under {media}"

        return await run_in_threadpool(admin_action(checked), request)

    def mark_page(request: Request) -> Response:
        with closing(connection()) as db:
            person = who(request, db)
            if person is None:
                return _login_needed()
            try:
                marking.marking(db, person, request.path_params["marking"])
            except NotFound:
                return HTMLResponse(pages.message("not found", "There is no such video to mark."), status_code=404)
        return HTMLResponse(pages.marking(request.path_params["marking"]))

    def served_file(find):
        """A media endpoint: the caller's file that ``find(db, caller, path parameters)`` names."""
        def endpoint(request: Request) -> Response:
            with closing(connection()) as db:
                person = who(request, db)
                if person is None or person.is_admin:
                    return Response(status_code=401)
                try:
                    path = find(db, person, request.path_params)
                except NotFound:
                    return Response(status_code=404)
            return FileResponse(path, headers={"Cache-Control": "private, max-age=3600"})
        return endpoint

    return Starlette(routes=[
        Route("/login/{token}", log_in),
        Route("/", home),
        Route("/copy/{copy}", labelling),
        Route("/api/copies/{copy}/tasks", api(copy_tasks)),
        Route("/api/answers/{task}", api(answer, reads_body=True), methods=["PUT"]),
        Route("/api/copies/{copy}/submit", api(finish), methods=["POST"]),
        Route("/mark/{marking}", mark_page),
        Route("/admin/qc", admin_action(run_qc), methods=["POST"]),
        Route("/admin/reassign", admin_action(run_reassign), methods=["POST"]),
        Route("/admin/export", export, methods=["POST"]),
        Route("/api/markings/{marking}", api(video_marks)),
        Route("/api/markings/{marking}/marks", api(add_mark, reads_body=True), methods=["POST"]),
        Route("/api/markings/{marking}/marks/{mark}", api(change_mark, reads_body=True), methods=["PUT"]),
        Route("/api/markings/{marking}/marks/{mark}", api(remove_mark), methods=["DELETE"]),
        Route("/api/markings/{marking}/submit", api(finish_marking), methods=["POST"]),
        Route("/media/marking/{marking}", served_file(lambda db, who, p: marking.marking_file(db, who, p["marking"],
                                                                                               media))),
        Route("/media/{task}", served_file(lambda db, who, p: media_file(db, who, p["task"], media))),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ])


class Malformed(Refused):
    """A request body that is not what the endpoint takes (HTTP 400)."""


def _mark_id(parameters: dict) -> int:
    if not parameters["mark"].isdigit():
        raise NotFound(parameters["mark"])
    return int(parameters["mark"])


def _login_needed() -> Response:
    return HTMLResponse(pages.message("log in", "Open the login link you were given."), status_code=401)


def serve(database: str | Path, media: str | Path, host: str = "127.0.0.1", port: int = 8000,
          words_file: str | Path = VOCABULARY, exports: str | Path | None = None) -> None:
    """Run the app with uvicorn until interrupted (bound to 127.0.0.1 unless told otherwise)."""
    import uvicorn

    uvicorn.run(create_app(database, media, words_file, exports), host=host, port=port, log_level="info")
