"""Fargate task sizes, and the smallest valid size that fits a measured load with headroom (TASKDEF-007)."""

from __future__ import annotations

import math
from dataclasses import dataclass

_GIB = 1024


def _range(low_gib: int, high_gib: int, step_gib: int) -> tuple[int, ...]:
    return tuple(gib * _GIB for gib in range(low_gib, high_gib + 1, step_gib))


# CPU units -> the memory sizes (MiB) Fargate accepts with it.
FARGATE_SIZES: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: _range(1, 4, 1),
    1024: _range(2, 8, 1),
    2048: _range(4, 16, 1),
    4096: _range(8, 30, 1),
    8192: _range(16, 60, 4),
    16384: _range(32, 120, 8),
}

# Headroom kept by a suggestion: p95 CPU at most this share of the new size, peak memory at most that.
CPU_TARGET = 0.6
MEMORY_TARGET = 0.75


@dataclass(frozen=True)
class FargateSize:
    cpu: int  # CPU units
    memory: int  # MiB
    capped: bool = False  # the load needs more than the largest Fargate size

    def __str__(self) -> str:
        memory = f"{self.memory // _GIB} GB" if self.memory % _GIB == 0 else f"{self.memory} MiB"
        return f"{self.cpu / 1024:g} vCPU / {memory} (cpu {self.cpu}, memory {self.memory})"


def is_valid_fargate_size(cpu: int, memory: int) -> bool:
    return memory in FARGATE_SIZES.get(cpu, ())


def smallest_fitting(cpu_needed: float, memory_needed: float) -> FargateSize:
    """The smallest valid Fargate size with at least `cpu_needed` CPU units and `memory_needed` MiB."""
    for cpu, memories in FARGATE_SIZES.items():
        if cpu < cpu_needed:
            continue
        for memory in memories:
            if memory >= memory_needed:
                return FargateSize(cpu, memory)
    largest = max(FARGATE_SIZES)
    return FargateSize(largest, FARGATE_SIZES[largest][-1], capped=True)


def suggest_size(task_cpu: int, task_memory: int, cpu_p95_percent: float, memory_peak_percent: float) -> FargateSize:
    """A size whose p95 CPU lands at CPU_TARGET and whose memory peak lands at MEMORY_TARGET of it,
    from the current size and the utilisation measured against it."""
    cpu_needed = task_cpu * cpu_p95_percent / 100 / CPU_TARGET
    memory_needed = task_memory * memory_peak_percent / 100 / MEMORY_TARGET
    return smallest_fitting(math.ceil(cpu_needed), math.ceil(memory_needed))
