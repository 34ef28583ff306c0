"""Deploy compiled pipelines to a KFP API as Pulumi resources.

``KfpPipeline`` is a dynamic resource: one KFP pipeline whose versions follow the compiled
spec. The sha256 digest of the spec is the identity of a version, so an unchanged spec is a
no-op, a changed spec adds a version to the same pipeline (update, never replace), and
destroy deletes the pipeline with all its versions.
"""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)

if TYPE_CHECKING:
    from pipelines.kfp_client import KfpApi

_REPLACE_ON = ("name",)
_UPDATE_ON = ("api_url", "ui_base_url", "description", "token")


def package_digest(package: str) -> str:
    """sha256 of the compiled spec: what decides whether a new version is needed."""
    return hashlib.sha256(package.encode()).hexdigest()


def version_name(name: str, digest: str) -> str:
    """A version name that is the same for the same spec, so re-uploads are recognised."""
    return f"{name}-{digest[:12]}"


def ui_link(ui_base_url: str, pipeline_id: str, version_id: str) -> str:
    """The KFP UI page of one pipeline version."""
    return f"{ui_base_url.rstrip('/')}/#/pipelines/details/{pipeline_id}/version/{version_id}"


def api_link(api_url: str, pipeline_id: str, version_id: str) -> str:
    """The KFP API's record of one pipeline version (a GET returns it)."""
    return f"{api_url.rstrip('/')}/apis/v2beta1/pipelines/{pipeline_id}/versions/{version_id}"


class KfpPipelineProvider(ResourceProvider):
    """CRUD of one KFP pipeline through the kfp SDK's API client (imports stay inside methods so
    the pickled provider stays small)."""

    serialize_as_secret_always = False

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Reject inputs that cannot work, before anything is sent to KFP."""
        failures = [CheckFailure(key, why) for key, why in _input_problems(news)]
        return CheckResult(news, failures)

    def create(self, props: dict[str, Any]) -> CreateResult:
        """Create the pipeline and its first version; undo the pipeline if the upload fails."""
        from pipelines.kfp_client import KfpApiError

        api = _api(props)
        digest = package_digest(props["package"])
        pipeline_id = api.create_pipeline(props["name"], props.get("description") or "")
        try:
            version_id = _upload(api, pipeline_id, props, digest)
        except KfpApiError:
            api.delete_pipeline(pipeline_id)
            raise
        return CreateResult(pipeline_id, _outputs(props, pipeline_id, version_id, digest))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """A new spec digest or a changed setting is an update; a new name is a replace."""
        replaces = [key for key in _REPLACE_ON if olds.get(key) != news.get(key)]
        changed = [key for key in (*_REPLACE_ON, *_UPDATE_ON) if olds.get(key) != news.get(key)]
        package = news.get("package")
        if not isinstance(package, str) or package_digest(package) != olds.get("digest"):
            changed.append("package")
        return DiffResult(changes=bool(changed), replaces=replaces, stables=["pipeline_id"])

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """Add a version when the spec changed (reusing one with the same digest)."""
        from pipelines.kfp_client import KfpApiError

        api = _api(news)
        if api.get_pipeline(id_) is None:
            raise KfpApiError(
                f"pipeline {id_} ({news['name']!r}) is not on the KFP API at {api.api_url}: it "
                "was deleted outside Pulumi or the API URL now points elsewhere. Fix: run "
                "`pulumi refresh` to forget it, then `pulumi up` to create it again."
            )
        digest = package_digest(news["package"])
        if digest == olds.get("digest") and olds.get("version_id"):
            version_id = str(olds["version_id"])
        else:
            version_id = _upload(api, id_, news, digest)
        return UpdateResult(_outputs(news, id_, version_id, digest))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """Delete the pipeline and all its versions (already gone is fine)."""
        _api(props).delete_pipeline(id_)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """Refresh: a pipeline deleted in KFP drops out of the state; a deleted version is
        forgotten, so the next update uploads the spec again."""
        api = _api(props)
        if api.get_pipeline(id_) is None:
            return ReadResult("", {})
        if api.get_version(id_, str(props.get("version_id") or "")) is None:
            forgotten = {"version_id": "", "digest": "", "ui_url": "", "api_link": ""}
            return ReadResult(id_, {**props, **forgotten})
        return ReadResult(id_, props)


def _api(props: dict[str, Any]) -> "KfpApi":
    from pipelines.kfp_client import KfpApi

    return KfpApi(props["api_url"], token=props.get("token") or None)


def _upload(api: "KfpApi", pipeline_id: str, props: dict[str, Any], digest: str) -> str:
    """Upload the spec as a version named by its digest, unless that version exists."""
    from pipelines.kfp_client import KfpApiError

    name = version_name(props["name"], digest)
    existing = api.find_version(pipeline_id, name)
    if existing:
        return existing
    try:
        return api.upload_version(
            pipeline_id, name, props["package"], props.get("description") or ""
        )
    except KfpApiError as err:
        if err.status != 500:
            raise
        raise KfpApiError(_rejected(str(err), props), status=err.status) from err


def _rejected(error: str, props: dict[str, Any]) -> str:
    """Why the server refused a spec it gives no reason for, and what to do about it."""
    from pipelines.spec_check import proto_problems, shape_problems

    found = shape_problems(props["package"]) + proto_problems(props["package"])
    why = (
        "; ".join(found)
        if found
        else "the spec passes this kfp SDK's checks, so the server may not know a field that "
        "a newer compiler wrote"
    )
    return (
        f"{error}. KFP did not accept the compiled spec of pipeline {props['name']!r} ({why}). "
        "Fix: upload a spec that the kfp compiler of the server's KFP version wrote "
        "(kfp.compiler.Compiler, `python -m pipelines compile`); the API server's log "
        "has its own reason."
    )


def _outputs(
    props: dict[str, Any], pipeline_id: str, version_id: str, digest: str
) -> dict[str, Any]:
    outputs = {key: props.get(key) for key in ("name", *_UPDATE_ON) if key in props}
    outputs.update(
        pipeline_id=pipeline_id,
        version_id=version_id,
        version_name=version_name(props["name"], digest),
        digest=digest,
        ui_url=ui_link(props["ui_base_url"], pipeline_id, version_id),
        api_link=api_link(props["api_url"], pipeline_id, version_id),
    )
    return outputs


def _input_problems(news: dict[str, Any]) -> list[tuple[str, str]]:
    from pipelines.urls import http_url_problem

    problems = [
        (key, problem)
        for key in ("api_url", "ui_base_url")
        if isinstance(news.get(key), str) and (problem := http_url_problem(key, news[key]))
    ]
    name = news.get("name")
    if isinstance(name, str) and not name.strip():
        problems.append(("name", "the pipeline name must not be empty"))
    package = news.get("package")
    if isinstance(package, str):
        from pipelines.spec_check import shape_problems

        problems.extend(("package", problem) for problem in shape_problems(package))
    return problems


@dataclass
class KfpPipelineArgs:
    """Inputs of one deployed pipeline; ``token`` (bearer) is optional and kept secret."""

    name: pulumi.Input[str]
    api_url: pulumi.Input[str]
    ui_base_url: pulumi.Input[str]
    package: pulumi.Input[str]
    description: pulumi.Input[str] = ""
    token: pulumi.Input[str] | None = None


class KfpPipeline(Resource, module="kfp", name="Pipeline"):
    """One KFP pipeline; its current version follows the compiled spec."""

    name: pulumi.Output[str]
    pipeline_id: pulumi.Output[str]
    version_id: pulumi.Output[str]
    version_name: pulumi.Output[str]
    digest: pulumi.Output[str]
    ui_url: pulumi.Output[str]
    api_link: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        args: KfpPipelineArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props: dict[str, Any] = {
            "name": args.name,
            "api_url": args.api_url,
            "ui_base_url": args.ui_base_url,
            "package": args.package,
            "description": args.description,
            "pipeline_id": None,
            "version_id": None,
            "version_name": None,
            "digest": None,
            "ui_url": None,
            "api_link": None,
        }
        if args.token is not None:
            props["token"] = pulumi.Output.secret(args.token)
        secret_opts = pulumi.ResourceOptions(additional_secret_outputs=["token"])
        super().__init__(
            KfpPipelineProvider(),
            resource_name,
            props,
            pulumi.ResourceOptions.merge(opts, secret_opts),
        )


def deploy_example_pipelines(
    api_url: pulumi.Input[str],
    ui_url: pulumi.Input[str],
    opts: pulumi.ResourceOptions | None = None,
    token: pulumi.Input[str] | None = None,
    examples: Sequence[str] | None = None,
) -> dict[str, KfpPipeline]:
    """Compile the example pipelines (all, or the keys in ``examples``) and deploy each to
    the KFP API at ``api_url``.

    Returns the resources by example key (``hello``, ``iris``) so the stack can export
    ``pipeline_id``, ``version_id``, ``digest``, ``ui_url`` and ``api_link`` of each.
    """
    from pipelines.catalog import EXAMPLES, compiled_text, get_example

    try:
        chosen = [get_example(key) for key in (EXAMPLES if examples is None else examples)]
    except ValueError as err:
        raise ValueError(f"examplePipelines.pipelines: {err}") from None
    return {
        example.key: KfpPipeline(
            f"kfp-pipeline-{example.key}",
            KfpPipelineArgs(
                name=example.pipeline_name,
                api_url=api_url,
                ui_base_url=ui_url,
                package=compiled_text(example),
                description=str(example.pipeline.description or ""),
                token=token,
            ),
            opts,
        )
        for example in chosen
    }
