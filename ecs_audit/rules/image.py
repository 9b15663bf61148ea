"""Checks of the IMAGE area (see checks/image.yaml)."""

from __future__ import annotations

from ecs_audit.estate import ContainerSubject
from ecs_audit.findings import EvidenceMissing, Verdict, fail, ok, warn
from ecs_audit.imageref import ImageRef, ImageRefError, parse_image_ref
from ecs_audit.rules.registry import check


def _image_ref(c: ContainerSubject) -> ImageRef:
    try:
        return parse_image_ref(c.container.image)
    except ImageRefError as exc:
        raise EvidenceMissing(f"the image reference cannot be parsed: {exc}") from None


@check("IMAGE-001")
def image_pinned(c: ContainerSubject) -> Verdict:
    ref = _image_ref(c)
    evidence = {"image": c.container.image, "tag": ref.tag, "digest": ref.digest}
    if ref.digest:
        # A digest pins the image whatever tag sits beside it.
        return ok(f"the image is pinned by digest {ref.digest[:19]}…", evidence)
    if ref.tag is None:
        return fail("the image has no tag or digest, so it resolves to latest", evidence)
    if ref.tag.lower() == "latest":
        return fail(f"the image uses the tag {ref.tag!r}, which moves with every push", evidence)
    return ok(f"the image is pinned to tag {ref.tag!r}", evidence)


@check("IMAGE-006")
def image_from_regional_ecr(c: ContainerSubject) -> Verdict:
    ref = _image_ref(c)
    region = c.estate.region
    evidence = {"image": c.container.image, "registry": ref.registry, "ecr_region": ref.ecr_region, "cluster_region": region}
    if not ref.is_ecr:
        what = "the public ECR Gallery (public.ecr.aws)" if ref.is_public_ecr else f"{ref.registry}, not a private ECR registry"
        return warn(f"the image comes from {what}: pulls depend on an outside registry", evidence)
    if ref.ecr_region != region:
        return fail(f"the image comes from ECR in {ref.ecr_region}, not {region}: cross-region pulls add latency, cost and a regional dependency", evidence)
    return ok(f"the image comes from ECR in {region}", evidence)
