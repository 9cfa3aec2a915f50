"""The annotation API under /v1/annotate: HTTP onto `valueprint.annotate` (the domain does the work).

Curators (and administrators) create projects, import documents, fix flagged units and export; any
signed-in person annotates once they have a value profile. Imports over HTTP are JSON bodies within
the app's request size limit, stored at once (`/documents`) or as a resumable job (`/imports`); large
corpora are imported with `valueprint annotate import`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Response
from fastapi.responses import FileResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from valueprint.accounts.roles import Role
from valueprint.annotate.readers import Fields
from valueprint.annotate.schema import MAX_WHY_CHARS, LabelSchema, Segmentation
from valueprint.annotate.schemas import (
    FlaggedUnit,
    ImportSummary,
    ImportView,
    NextUnit,
    ProjectView,
    RawUnit,
    Recorded,
    Undone,
)
from valueprint.errors import ForbiddenError, NotFoundError
from valueprint.web.deps import Curator, Participant, ServicesDep, UnitId

router = APIRouter(prefix="/v1/annotate", tags=["annotate"])


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProjectRequest(Body):
    name: str = Field(min_length=1, max_length=200)
    instructions: str = Field("", max_length=20_000, description="Shown to annotators.")
    label_schema: LabelSchema = Field(default_factory=LabelSchema)
    overlap: int = Field(1, ge=1, le=20, description="Annotators per unit (k).")
    gold_share: float = Field(0.0, ge=0.0, le=0.5)
    segmentation: Segmentation = "sentences"


class ImportRequest(Body):
    format: Literal["documents", "labelstudio"] = Field(
        "documents", description="`documents`: objects with the text field; `labelstudio`: Label Studio tasks."
    )
    items: list[dict[str, Any]] = Field(max_length=5000)
    text_field: str = Field("text", max_length=100)
    licence: str | None = Field(None, max_length=200, description="For documents without a `licence` field.")
    source: str = Field("api", max_length=500, description="Where the documents come from.")


class ImportJobRequest(ImportRequest):
    batch: int = Field(200, ge=1, le=5000, description="Documents sanitised per committed chunk.")


class LabelsRequest(Body):
    values: dict[str, Annotated[int, Field(ge=-1, le=1)]] = Field(
        default_factory=dict, max_length=100, description="{dimension id: 1 upholds | -1 violates}"
    )
    acceptability: int | None = Field(None, ge=0, le=10, description="Index on the project's scale; 0 = clearly wrong.")
    why: str | None = Field(None, max_length=MAX_WHY_CHARS)
    custom: list[str] = Field(default_factory=list, max_length=50)


class FlagRequest(Body):
    reason: str = Field("", max_length=500, description="What personal data leaked (kept for the curator).")


class PrelabelRequest(Body):
    batch: int = Field(64, ge=1, le=1024, description="Units per committed batch.")


class ExportRequest(Body):
    format: Literal["jsonl", "labelstudio", "dpo", "hf"] = Field(
        description="`jsonl`, `labelstudio` (tasks), `dpo` (prompt/chosen/rejected pairs, JSONL) or `hf` "
        "(a Hugging Face dataset folder, read it on the server)."
    )


class SearchRequest(Body):
    query: str = Field(min_length=1, max_length=500, description='e.g. "posts where someone is bullied".')
    top: int = Field(20, ge=1, le=500)
    into: str | None = Field(
        None, description="Copy the matches, with their pre-labels where they fit, into this project (curators only)."
    )


class SearchMatch(BaseModel):
    unit_id: UnitId
    text: str
    score: float = Field(description="Cosine similarity with the query in MiniLM space.")


class SearchResult(BaseModel):
    matches: list[SearchMatch]
    imported: ImportView | None = None


class JobStatus(BaseModel):
    job_id: str
    kind: str | None = None
    project_id: str | None = None
    format: str | None = None
    state: str = Field(description="queued, running, done, failed or cancelled.")
    engine: str | None = Field(None, description="in-process or dask.")
    done: int | None = None
    total: int | None = None
    eta_s: float | None = None
    error: str | None = None
    written: int | None = Field(None, description="Rows (or DPO pairs) written, once done.")
    note: str | None = Field(None, description="Why an export wrote nothing (a DPO export without pairs).")
    import_id: str | None = Field(None, description="An import job's import (see /projects/{id}/imports).")
    imported: ImportView | None = Field(None, description="An import job's counts so far, final once done.")
    restarts: int | None = Field(
        None, description="How many times in a row the server resumed this import by itself after a restart."
    )
    submitted_at: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    updated_at: str | None = None


class FixRequest(Body):
    text: str = Field(min_length=1, max_length=5000, description="The unit's corrected text.")


def _body(media_type: str, description: str) -> dict[int | str, dict[str, Any]]:
    return {200: {"description": description, "content": {media_type: {"schema": {"type": "string"}}}}}


@router.post("/projects", status_code=201)
def create_project(s: ServicesDep, curator: Curator, body: ProjectRequest) -> ProjectView:
    """Create an annotation project (curators)."""
    return s.annotate.create_project(curator, body.model_dump(mode="json"))


@router.get("/projects")
def list_projects(s: ServicesDep, _: Participant) -> list[ProjectView]:
    return s.annotate.projects()


@router.get("/projects/{project_id}")
def get_project(s: ServicesDep, _: Participant, project_id: str) -> ProjectView:
    return s.annotate.project(project_id)


@router.post("/projects/{project_id}/documents", status_code=201)
def import_documents(s: ServicesDep, _: Curator, project_id: str, body: ImportRequest) -> ImportView:
    """Import documents (segmented, de-duplicated, sanitised; all or nothing)."""
    fields = Fields(text=body.text_field, licence=body.licence, source=body.source)
    if body.format == "labelstudio":
        return s.annotate.import_labelstudio(project_id, body.items, fields, body.source)
    return s.annotate.import_items(project_id, body.items, fields, body.source)


@router.post("/projects/{project_id}/imports", status_code=202)
def start_import(s: ServicesDep, _: Curator, project_id: str, body: ImportJobRequest) -> JobStatus:
    """Import documents as a background job: every row is checked first (a bad one is refused, named, and
    nothing is stored), then units are segmented, de-duplicated and sanitised a committed chunk at a time
    (progress at /jobs/{job_id}). Annotators see none of them until all are done; a failed or cancelled
    import leaves nothing behind, and one stopped by a server restart carries on with /jobs/{job_id}/resume."""
    fields = Fields(text=body.text_field, licence=body.licence, source=body.source)
    stage = s.annotate.stage_labelstudio if body.format == "labelstudio" else s.annotate.stage_items
    import_id = stage(project_id, body.items, fields, body.source)
    return JobStatus(**s.start_import(project_id, import_id, body.batch))


@router.get("/projects/{project_id}/imports")
def list_imports(s: ServicesDep, _: Curator, project_id: str) -> list[ImportSummary]:
    """The project's job imports, newest first: pending ones with their progress, finished ones with counts."""
    return s.annotate.imports(project_id)


@router.post("/projects/{project_id}/next")
def next_unit(s: ServicesDep, participant_id: Participant, project_id: str) -> NextUnit:
    """Reserve the next unit for me (or give back the one I hold); `unit` is null when none is left."""
    return NextUnit(unit=s.annotate.next_unit(project_id, participant_id))


@router.post("/projects/{project_id}/units/{unit_id}/labels")
def label_unit(
    s: ServicesDep, participant_id: Participant, project_id: str, unit_id: UnitId, body: LabelsRequest
) -> Recorded:
    """Label a unit I hold; a snapshot of my value profile is stored with it."""
    s.annotate_unit(project_id, unit_id, participant_id, body.model_dump())
    return Recorded(unit_id=unit_id, skipped=False)


@router.post("/projects/{project_id}/units/{unit_id}/skip")
def skip_unit(s: ServicesDep, participant_id: Participant, project_id: str, unit_id: UnitId) -> Recorded:
    s.annotate_unit(project_id, unit_id, participant_id, None)
    return Recorded(unit_id=unit_id, skipped=True)


@router.post("/projects/{project_id}/undo")
def undo(s: ServicesDep, participant_id: Participant, project_id: str) -> Undone:
    """Undo my latest label or skip in the project; the unit is mine again, and the labels I had given come
    back (to correct and send again)."""
    return s.annotate.undo(project_id, participant_id)


@router.post("/projects/{project_id}/units/{unit_id}/flag", status_code=204)
def flag_unit(
    s: ServicesDep, participant_id: Participant, project_id: str, unit_id: UnitId, body: FlagRequest
) -> Response:
    """Report personal data in a unit: it is hidden from everyone at once, until a curator fixes it."""
    s.annotate.flag(project_id, unit_id, participant_id, body.reason)
    return Response(status_code=204)


@router.get("/projects/{project_id}/flagged")
def flagged_units(s: ServicesDep, _: Curator, project_id: str) -> list[FlaggedUnit]:
    return s.annotate.flagged(project_id)


@router.get("/projects/{project_id}/units/{unit_id}/raw")
def raw_unit(s: ServicesDep, _: Curator, project_id: str, unit_id: UnitId) -> RawUnit:
    """The unit's original, unsanitised text (curators)."""
    return s.annotate.raw_unit(project_id, unit_id)


@router.put("/projects/{project_id}/units/{unit_id}/text", status_code=204)
def fix_unit(s: ServicesDep, _: Curator, project_id: str, unit_id: UnitId, body: FixRequest) -> Response:
    """Replace a flagged unit's text (sanitised once more) and show it to annotators again."""
    s.annotate.fix_unit(project_id, unit_id, body.text)
    return Response(status_code=204)


@router.post("/projects/{project_id}/search")
def search_units(s: ServicesDep, participant_id: Participant, project_id: str, body: SearchRequest) -> SearchResult:
    """Units matching a description, by embedding search with the evaluator's backbone; curators may copy
    the matches into another project (`into`) to build a project or a queue from a corpus."""
    from valueprint.annotate.select import evaluator_embedder
    from valueprint.evaluate.evaluator import shared_evaluator

    embed = s.annotate_embedder or evaluator_embedder(shared_evaluator(s.settings))
    matches = s.annotate.search(project_id, body.query, embed, body.top)
    imported = None
    if body.into is not None:
        if s.accounts.role(participant_id) not in (Role.CURATOR, Role.ADMIN):
            raise ForbiddenError("only curators copy units into a project")
        target = s.annotate.resolve(body.into)
        imported = s.annotate.select_into(project_id, matches, target, f"search:{project_id}:{body.query}")
    return SearchResult(matches=[SearchMatch(**m.__dict__) for m in matches], imported=imported)


@router.post("/projects/{project_id}/prelabel", status_code=202)
def prelabel(s: ServicesDep, _: Curator, project_id: str, body: PrelabelRequest | None = None) -> JobStatus:
    """Pre-label every unit that has no machine pre-label yet, as a background job (resumes after a kill)."""
    s.annotate.project(project_id)
    return JobStatus(**s.annotate_jobs.prelabel(project_id, (body or PrelabelRequest()).batch))


@router.post("/projects/{project_id}/exports", status_code=202)
def start_export(s: ServicesDep, _: Curator, project_id: str, body: ExportRequest) -> JobStatus:
    """Stream an export to a file on the server as a background job; fetch it from /jobs/{job_id}/file."""
    s.annotate.project(project_id)
    return JobStatus(**s.annotate_jobs.export(project_id, body.format))


@router.get("/jobs/{job_id}")
def job_status(s: ServicesDep, _: Curator, job_id: str) -> JobStatus:
    """A pre-label or export job's state and progress."""
    return JobStatus(**s.annotate_jobs.status(job_id))


@router.delete("/jobs/{job_id}")
def cancel_job(s: ServicesDep, _: Curator, job_id: str) -> JobStatus:
    """Cancel a job: it stops at its next batch (pre-labels written so far stay; an export's file is removed;
    an import's documents and units are all deleted)."""
    return JobStatus(**s.annotate_jobs.cancel(job_id))


@router.post("/jobs/{job_id}/resume", status_code=202)
def resume_job(s: ServicesDep, _: Curator, job_id: str) -> JobStatus:
    """Carry on with an import job stopped by a kill or restart, from its last committed chunk (409 when it is
    running here, finished, or not an import)."""
    return JobStatus(**s.resume_import(job_id))


@router.get(
    "/jobs/{job_id}/file",
    response_class=FileResponse,
    responses=_body("application/octet-stream", "The finished export file."),
)
def job_file(s: ServicesDep, _: Curator, job_id: str) -> FileResponse:
    """A finished export (JSONL, Label Studio JSON or DPO JSONL); a Hugging Face dataset is a folder: 404."""
    path = s.annotate_jobs.output(job_id)
    if path.is_dir():
        raise NotFoundError("a Hugging Face dataset export is a folder on the server; read it there")
    return FileResponse(path, filename=path.name)


@router.get(
    "/projects/{project_id}/export.jsonl",
    response_class=StreamingResponse,
    responses=_body("application/x-ndjson", "One JSON object per line, one line per unit."),
)
def export_jsonl(s: ServicesDep, _: Curator, project_id: str) -> StreamingResponse:
    """JSONL, streamed: one line per unit with every annotation and the majority aggregate."""
    lines = s.annotate.export_jsonl(project_id)
    first = next(lines, "")  # a missing project fails here, before the response starts
    return StreamingResponse(_chain(first, lines), media_type="application/x-ndjson")


@router.get(
    "/projects/{project_id}/export.labelstudio.json",
    response_class=StreamingResponse,
    responses=_body("application/json", "A Label Studio task list."),
)
def export_labelstudio(s: ServicesDep, _: Curator, project_id: str) -> StreamingResponse:
    """Label Studio tasks with `annotations` and `predictions`, streamed."""
    chunks = s.annotate.export_labelstudio(project_id)
    first = next(chunks, "")
    return StreamingResponse(_chain(first, chunks), media_type="application/json")


@router.get(
    "/projects/{project_id}/labelstudio-config",
    response_class=Response,
    responses=_body("application/xml", "A Label Studio labelling config."),
)
def labelstudio_config(s: ServicesDep, _: Curator, project_id: str) -> Response:
    """The Label Studio labelling config (XML) that reads this project's exports."""
    return Response(s.annotate.labelstudio_config(project_id), media_type="application/xml")


def _chain(first: str, rest: Any) -> Any:
    yield first
    yield from rest
