using Foresight.Models;
using Foresight.Tasks;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Foresight.Methods;

/// <summary>
/// Teacherless (multi-token) training: every target input is replaced by the filler token '$', so the
/// model must predict the whole answer from the prefix alone, all positions in one parallel pass.
/// No true earlier target is ever shown, which removes the Clever-Hans shortcut.
/// </summary>
[Method("teacherless", "all target inputs replaced by '$'; the answer decoded in one pass")]
public sealed class Teacherless : ITrainingMethod
{
    private readonly Gpt _gpt;
    private readonly int _prefixLength;
    private readonly int _targetLength;
    private readonly int _filler;

    public Teacherless(MethodContext context)
    {
        _prefixLength = context.Task.PrefixLength;
        _targetLength = context.Task.TargetLength;
        _filler = context.Task.FillerToken;
        _gpt = new Gpt(context.Model.ToGpt(context.Task, TokensPerExample));
    }

    public string Name => "teacherless";
    public nn.Module Model => _gpt;
    public int TokensPerExample => _prefixLength + _targetLength - 1;

    public Tensor Loss(Batch batch) =>
        F.cross_entropy(TargetLogits(batch.Prefix).flatten(0, 1), batch.Target.flatten());

    public Tensor Decode(Tensor prefix) => TargetLogits(prefix).argmax(-1);

    public Tensor TeacherForced(Batch batch) => Decode(batch.Prefix);

    private Tensor TargetLogits(Tensor prefix)
    {
        var fillers = full(prefix.shape[0], _targetLength - 1, _filler, dtype: ScalarType.Int64, device: prefix.device);
        var input = cat([prefix, fillers], 1); // (B, P + T - 1)
        return _gpt.forward(input).narrow(1, _prefixLength - 1, _targetLength); // (B, T, V)
    }

    public void Dispose() => _gpt.Dispose();
}
