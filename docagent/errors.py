"""docagent's exceptions: every error raised on purpose, each with a stable `code`.

    DocagentError
    ├── IngestError              a data file could not be read (names the file and the problem)
    │   ├── EmptyFile
    │   ├── UnsupportedFormat
    │   ├── UnreadableData       garbage, a CSV that does not parse, JSON that is not records
    │   └── UnsafeArchive        an XLSX that is a zip bomb or not a workbook
    ├── PlanError                a plan does not fit the data (carries every problem found)
    ├── ExprError                an expression in a plan does not parse (says what and where)
    ├── QueryError               a binding cannot be compiled or executed
    ├── PlannerError             no planner could produce a plan
    │   ├── NothingToPlan        no data and no model: the rules planner cannot write prose
    │   ├── ModelNotConfigured   the model planner was chosen on a server with no model
    │   ├── RepairBudgetExhausted  the model's plans kept failing validation
    │   └── ModelError           the model endpoint failed
    │       ├── ModelUnavailable     down, timing out or overloaded past the retries
    │       ├── ModelAuthFailed      401/403: the key is wrong (never retried)
    │       ├── ModelRejected        another 4xx: the request itself is wrong
    │       ├── ContextTooLong       the prompt does not fit the model's context
    │       ├── TokenBudgetExceeded  the plan spent its token budget (DOCAGENT_LLM_JOB_TOKEN_BUDGET)
    │       └── NotJSON              the model's reply holds no JSON object
    ├── RenderError              a document could not be written
    │   └── FontMissing          text needs glyphs no installed font has
    ├── StorageError             the artifact store failed (disk full, bucket unreachable)
    ├── SourceError              a scheduled run's source (dataset name, SQL query) failed at run time
    ├── DeliveryFailed           a webhook did not accept a run's result (retried)
    ├── InvalidSchedule          a cron expression, time zone or source that cannot work (names the field)
    ├── InvalidApiKey            a key name that is empty, too long, taken or unknown
    ├── InvalidBrand             a brand kit whose colours, palette or logo cannot work (carries every problem)
    ├── UnknownBrand             a job or schedule names a brand kit the owner does not have
    ├── InUse                    an upload that a brand kit or schedule still needs (names them)
    ├── NotSignedIn              no API key or session, or a revoked one
    ├── Forbidden                a cross-origin or token-less browser request; auth off off loopback
    ├── ForbiddenDestination     a webhook URL whose host is not a public address
    ├── NotFound                 no such object for this owner (another owner's is "not found" too)
    │   ├── JobNotFound
    │   ├── DatasetNotFound
    │   ├── ScheduleNotFound
    │   ├── BrandNotFound
    │   └── ArtifactNotFound     a job's file, plan or preview page that does not exist (yet)
    ├── IllegalTransition        a job status change the lifecycle forbids (cancel a finished job)
    ├── TooManyJobs              the owner's rate or concurrency limit; carries `retry_after` seconds
    ├── RevisionRefused          a job that cannot be revised now
    │   ├── RevisionNeedsModel   no model endpoint: revising a plan is the model's work
    │   └── NothingToRevise      the job has no plan (yet)
    ├── UploadTooLarge           an upload over DOCAGENT_MAX_UPLOAD_BYTES
    └── UnsupportedLanguage      an explicit language docagent has no phrase table for (lists the supported)

Every exception pickles (it crosses Celery) because it only carries plain arguments.
The API turns each `code` into an HTTP status in one place (api/problems.py).
"""

from __future__ import annotations


class DocagentError(Exception):
    """Base class for every error docagent raises on purpose."""

    code = "error"


class IngestError(DocagentError):
    code = "bad_input"

    def __init__(self, filename: str, problem: str) -> None:
        super().__init__(filename, problem)
        self.filename = filename
        self.problem = problem

    def __str__(self) -> str:
        return f"{self.filename}: {self.problem}"


class EmptyFile(IngestError):
    pass


class UnsupportedFormat(IngestError):
    pass


class UnreadableData(IngestError):
    pass


class UnsafeArchive(IngestError):
    pass


class _Problems(DocagentError):
    """Carries every problem found, not just the first."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(problems)
        self.problems = list(problems)


class PlanError(_Problems):
    code = "invalid_plan"

    def __str__(self) -> str:
        return "the plan does not fit the data:\n" + "\n".join(f"- {p}" for p in self.problems)


class ExprError(DocagentError):
    code = "invalid_expression"

    def __init__(self, text: str, message: str) -> None:
        super().__init__(text, message)
        self.text = text
        self.message = message

    def __str__(self) -> str:
        return f"expression {self.text!r}: {self.message}"


class QueryError(DocagentError):
    code = "bad_query"


class PlannerError(DocagentError):
    code = "planner_failed"


class NothingToPlan(PlannerError):
    code = "nothing_to_plan"


class ModelNotConfigured(PlannerError):
    code = "model_not_configured"


class RepairBudgetExhausted(_Problems, PlannerError):
    code = "invalid_model_output"

    def __str__(self) -> str:
        head = "; ".join(self.problems[:3])
        more = f" (+{len(self.problems) - 3} more)" if len(self.problems) > 3 else ""
        return f"the model's plan still had problems after the repair budget: {head}{more}"


class ModelError(PlannerError):
    code = "model_error"


class ModelUnavailable(ModelError):
    code = "model_unavailable"


class ModelAuthFailed(ModelError):
    code = "model_auth_failed"


class ModelRejected(ModelError):
    code = "model_rejected"


class ContextTooLong(ModelError):
    code = "context_too_long"


class TokenBudgetExceeded(ModelError):
    code = "token_budget_exceeded"


class RenderError(DocagentError):
    code = "render_failed"


class FontMissing(RenderError):
    code = "font_missing"


class NotJSON(ModelError):
    code = "model_not_json"


class StorageError(DocagentError):
    code = "storage_error"


class SourceError(DocagentError):
    code = "source_failed"


class DeliveryFailed(DocagentError):
    code = "delivery_failed"


class InvalidSchedule(DocagentError):
    """Names the field at fault (`cron`, `timezone`, `webhook_url`, `job.source`, ...) when there is one."""

    code = "invalid_schedule"

    def __init__(self, problem: str, field: str | None = None) -> None:
        super().__init__(problem, field)
        self.problem = problem
        self.field = field

    def __str__(self) -> str:
        return f"{self.field}: {self.problem}" if self.field else self.problem


class InvalidApiKey(DocagentError):
    code = "invalid_key"


class InvalidBrand(_Problems):
    code = "invalid_brand"

    def __str__(self) -> str:
        return "the brand kit cannot be used:\n" + "\n".join(f"- {p}" for p in self.problems)


class UnknownBrand(DocagentError):
    code = "unknown_brand"


class InUse(DocagentError):
    code = "in_use"


class NotSignedIn(DocagentError):
    code = "unauthorized"


class Forbidden(DocagentError):
    code = "forbidden"


class ForbiddenDestination(DocagentError):
    code = "forbidden_destination"


class NotFound(DocagentError):
    code = "not_found"


class JobNotFound(NotFound):
    code = "job_not_found"


class DatasetNotFound(NotFound):
    code = "dataset_not_found"


class ScheduleNotFound(NotFound):
    code = "schedule_not_found"


class BrandNotFound(NotFound):
    code = "brand_not_found"


class ArtifactNotFound(NotFound):
    code = "artifact_not_found"


class IllegalTransition(DocagentError):
    code = "illegal_transition"


class TooManyJobs(DocagentError):
    code = "too_many_jobs"

    def __init__(self, message: str, retry_after: int = 10) -> None:
        super().__init__(message, retry_after)
        self.retry_after = retry_after

    def __str__(self) -> str:
        return str(self.args[0])


class UploadTooLarge(DocagentError):
    code = "upload_too_large"


class RevisionRefused(DocagentError):
    code = "revision_refused"


class RevisionNeedsModel(RevisionRefused):
    code = "model_required"


class NothingToRevise(RevisionRefused):
    code = "no_plan"


class UnsupportedLanguage(DocagentError):
    code = "unsupported_language"
