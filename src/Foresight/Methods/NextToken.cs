using static TorchSharp.torch;

namespace Foresight.Methods;

/// <summary>Standard teacher forcing: each target token predicted from the prefix and the true earlier targets.</summary>
[Method("ntp", "teacher-forced next-token prediction")]
public sealed class NextToken(MethodContext context) : AutoregressiveMethod(context), ILeftToRightDecoder
{
    public Tensor Continue(Tensor prefix, Tensor forcedTarget) => Generate(prefix, forcedTarget);

    protected override Tensor ToTrainingOrder(Tensor target) => target;
    protected override Tensor ToTaskOrder(Tensor target) => target;
}
