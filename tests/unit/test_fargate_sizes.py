"""The Fargate size table and TASKDEF-007's suggestion with headroom."""

from __future__ import annotations

import pytest

from ecs_audit.semantics.fargate_sizes import CPU_TARGET, FARGATE_SIZES, MEMORY_TARGET, is_valid_fargate_size, smallest_fitting, suggest_size

GB = 1024


def test_the_table_is_the_documented_fargate_combinations():
    assert FARGATE_SIZES[256] == (512, 1 * GB, 2 * GB)
    assert FARGATE_SIZES[512] == tuple(g * GB for g in range(1, 5))
    assert FARGATE_SIZES[1024] == tuple(g * GB for g in range(2, 9))
    assert FARGATE_SIZES[2048] == tuple(g * GB for g in range(4, 17))
    assert FARGATE_SIZES[4096] == tuple(g * GB for g in range(8, 31))
    assert FARGATE_SIZES[8192] == tuple(g * GB for g in range(16, 61, 4))
    assert FARGATE_SIZES[16384] == tuple(g * GB for g in range(32, 121, 8))


@pytest.mark.parametrize(("cpu", "memory", "valid"), [(256, 512, True), (256, 3072, False), (8192, 20 * GB, True), (8192, 18 * GB, False), (300, 1024, False)])
def test_validity(cpu, memory, valid):
    assert is_valid_fargate_size(cpu, memory) is valid


def test_the_smallest_fitting_size_raises_cpu_when_memory_needs_it():
    assert (smallest_fitting(200, 3 * GB).cpu, smallest_fitting(200, 3 * GB).memory) == (512, 3 * GB)
    assert (smallest_fitting(5000, 10 * GB).cpu, smallest_fitting(5000, 10 * GB).memory) == (8192, 16 * GB)
    assert smallest_fitting(20000, GB).capped


def test_every_suggestion_is_valid_and_keeps_headroom():
    for cpu, memories in FARGATE_SIZES.items():
        for memory in memories:
            for cpu_p95, memory_peak in ((5, 10), (50, 60), (95, 99)):
                size = suggest_size(cpu, memory, cpu_p95, memory_peak)
                assert is_valid_fargate_size(size.cpu, size.memory)
                if not size.capped:
                    assert size.cpu * CPU_TARGET >= cpu * cpu_p95 / 100 - 1
                    assert size.memory * MEMORY_TARGET >= memory * memory_peak / 100 - 1


def test_a_suggestion_reads_in_vcpu_and_gb():
    assert str(suggest_size(1024, 4096, 8, 20)) == "0.25 vCPU / 2 GB (cpu 256, memory 2048)"
