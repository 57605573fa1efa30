using Foresight.Tasks;
using static TorchSharp.torch;

namespace Foresight.Methods;

/// <summary>
/// Teacherless (multi-token) training: every target input is replaced by the filler token '$', so the
/// model must predict the whole answer from the prefix alone, all positions in one parallel pass.
/// No true earlier target is ever shown, which removes the Clever-Hans shortcut.
/// </summary>
[Method("teacherless", "all target inputs replaced by '$'; the answer decoded in one pass", PerPositionLoss = true)]
public sealed class Teacherless(MethodContext context) : BackboneMethod(context)
{
    private readonly int _filler = context.Task.FillerToken;

    public override Tensor Loss(Batch batch) => TargetLoss(AnswerLogits(batch.Prefix), batch.Target);

    public override Tensor Decode(Tensor prefix) => AnswerLogits(prefix).argmax(-1);

    /// <summary>Each position drawn on its own from the one parallel pass: nothing ties a token to the ones drawn beside it.</summary>
    public override Tensor Sample(Tensor prefix, double temperature, Generator generator) =>
        Pick(AnswerLogits(prefix), temperature, generator).squeeze(-1);

    public override Tensor TeacherForced(Batch batch) => Decode(batch.Prefix);

    private Tensor AnswerLogits(Tensor prefix)
    {
        var fillers = HeldScalars.Full(prefix.shape[0], TargetLength - 1, _filler, ScalarType.Int64, prefix.device);
        return TargetLogits(cat([prefix, fillers], 1)); // input (B, P + T - 1)
    }
}
