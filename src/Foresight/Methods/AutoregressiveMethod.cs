using Foresight.Models;
using Foresight.Tasks;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Foresight.Methods;

/// <summary>
/// Teacher-forced next-token prediction of the target in some order (task order for ntp, reversed
/// for reverse), with greedy left-to-right decoding. The loss covers target tokens only.
/// </summary>
public abstract class AutoregressiveMethod : ITrainingMethod
{
    private readonly Gpt _gpt;
    private readonly int _prefixLength;
    private readonly int _targetLength;

    protected AutoregressiveMethod(MethodContext context)
    {
        _prefixLength = context.Task.PrefixLength;
        _targetLength = context.Task.TargetLength;
        _gpt = new Gpt(context.Model.ToGpt(context.Task, TokensPerExample));
    }

    public abstract string Name { get; }
    public nn.Module Model => _gpt;
    public int TokensPerExample => _prefixLength + _targetLength - 1;

    /// <summary>The target as the model is trained to write it, (B, T).</summary>
    protected abstract Tensor ToTrainingOrder(Tensor target);

    /// <summary>Inverse of <see cref="ToTrainingOrder"/>.</summary>
    protected abstract Tensor ToTaskOrder(Tensor target);

    public Tensor Loss(Batch batch)
    {
        var target = ToTrainingOrder(batch.Target); // (B, T)
        var logits = TargetLogits(batch.Prefix, target); // (B, T, V)
        return F.cross_entropy(logits.flatten(0, 1), target.flatten());
    }

    public Tensor TeacherForced(Batch batch) =>
        ToTaskOrder(TargetLogits(batch.Prefix, ToTrainingOrder(batch.Target)).argmax(-1));

    public Tensor Decode(Tensor prefix)
    {
        var sequence = prefix; // (B, P + i)
        for (int i = 0; i < _targetLength; i++)
        {
            var next = _gpt.forward(sequence).select(1, -1).argmax(-1, keepdim: true); // (B, 1)
            sequence = cat([sequence, next], 1);
        }
        return ToTaskOrder(sequence.narrow(1, _prefixLength, _targetLength));
    }

    /// <summary>Logits at the positions that predict each target token, given the true earlier ones.</summary>
    private Tensor TargetLogits(Tensor prefix, Tensor target)
    {
        var input = cat([prefix, target.narrow(1, 0, _targetLength - 1)], 1); // (B, P + T - 1)
        return _gpt.forward(input).narrow(1, _prefixLength - 1, _targetLength); // (B, T, V)
    }

    public void Dispose() => _gpt.Dispose();
}
