using System.Diagnostics;

namespace Foresight.Training;

/// <summary>The parts of one optimizer step, in the order they run.</summary>
public enum StepPhase
{
    /// <summary>The method's loss: the forward pass and everything it computes from it.</summary>
    Forward,

    /// <summary>Zeroing the gradients and the backward pass.</summary>
    Backward,

    /// <summary>The gradient-norm clip.</summary>
    Clip,

    /// <summary>The AdamW update.</summary>
    Optimizer,
}

/// <summary>One phase of one step, between two <see cref="Stopwatch"/> timestamps (CLOCK_MONOTONIC nanoseconds on Linux).</summary>
public readonly record struct PhaseSpan(StepPhase Phase, long Start, long End)
{
    public double Seconds => (double)(End - Start) / Stopwatch.Frequency;
}

/// <summary>When each phase of the steps given to <see cref="Trainer.Step"/> began and ended. CPU operations are synchronous, so a timestamp is the work done.</summary>
public sealed class StepPhases
{
    private readonly List<PhaseSpan> _spans = [];
    private (StepPhase Phase, long Start)? _open;

    public IReadOnlyList<PhaseSpan> Spans => _spans;

    public void Begin(StepPhase phase)
    {
        long now = Stopwatch.GetTimestamp();
        Close(now);
        _open = (phase, now);
    }

    public void End() => Close(Stopwatch.GetTimestamp());

    private void Close(long now)
    {
        if (_open is { } open) _spans.Add(new PhaseSpan(open.Phase, open.Start, now));
        _open = null;
    }
}
