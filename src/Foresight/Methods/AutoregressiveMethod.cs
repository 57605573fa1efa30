using Foresight.Models;
using Foresight.Tasks;
using static TorchSharp.torch;

namespace Foresight.Methods;

/// <summary>
/// Teacher-forced next-token prediction of the target in some order (task order for ntp, reversed
/// for reverse), with greedy left-to-right decoding. The loss covers target tokens only.
/// </summary>
public abstract class AutoregressiveMethod(MethodContext context) : BackboneMethod(context), IStepwiseDecoder
{
    private int[]? _writingOrder;

    /// <summary>The target as the model is trained to write it, (B, T).</summary>
    protected abstract Tensor ToTrainingOrder(Tensor target);

    /// <summary>Inverse of <see cref="ToTrainingOrder"/>.</summary>
    protected abstract Tensor ToTaskOrder(Tensor target);

    public override Tensor Loss(Batch batch)
    {
        var target = ToTrainingOrder(batch.Target); // (B, T)
        var logits = TeacherForcedLogits(batch.Prefix, target); // (B, T, V)
        return TargetLoss(logits, target, ToTaskOrder);
    }

    public override Tensor TeacherForced(Batch batch) =>
        ToTaskOrder(TeacherForcedLogits(batch.Prefix, ToTrainingOrder(batch.Target)).argmax(-1), batch.Target);

    /// <summary>
    /// Predictions (B, T) in training order back to task order, each to the place of the target token it was
    /// scored against; <see cref="ToTaskOrder(Tensor)"/> unless the order depends on the example.
    /// </summary>
    protected virtual Tensor ToTaskOrder(Tensor predictions, Tensor target) => ToTaskOrder(predictions);

    public override Tensor Decode(Tensor prefix) => ToTaskOrder(Generate(prefix, forced: null));

    public override Tensor Sample(Tensor prefix, double temperature, Generator generator) =>
        ToTaskOrder(Generate(prefix, forced: null, temperature, generator));

    public IReadOnlyList<int> WritingOrder => VariableOrder is { } why ? throw new UserError(why) : _writingOrder ??=
        [.. ToTrainingOrder(HeldScalars.Arange(TargetLength, ScalarType.Int64).unsqueeze(0)).squeeze(0).data<long>().Select(p => (int)p)];

    public virtual string? VariableOrder => null;

    public Tensor NextTokenLogits(Tensor prefix, Tensor written) =>
        NextLogits(written.shape[1] == 0 ? prefix : cat([prefix, written], 1));

    public Tensor WrittenLogits(Tensor prefix, Tensor written) => TargetLogits(TeacherForcedInput(prefix, written));

    /// <summary>Each target token's logits given the prefix and the true earlier target tokens.</summary>
    private Tensor TeacherForcedLogits(Tensor prefix, Tensor target) => TargetLogits(TeacherForcedInput(prefix, target));
}

/// <summary>
/// An autoregressive method that writes the answer in task order (ntp and the lookahead objectives,
/// which differ only in their training loss), so a probe can force its first tokens.
/// </summary>
public abstract class LeftToRightMethod(MethodContext context) : AutoregressiveMethod(context), ILeftToRightDecoder
{
    public Tensor Continue(Tensor prefix, Tensor forcedTarget) => Generate(prefix, forcedTarget);

    protected sealed override Tensor ToTrainingOrder(Tensor target) => target;
    protected sealed override Tensor ToTaskOrder(Tensor target) => target;
}
