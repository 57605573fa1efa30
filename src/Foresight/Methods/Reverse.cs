using static TorchSharp.torch;

namespace Foresight.Methods;

/// <summary>
/// Next-token prediction of the reversed target (goal first): each step of the reversed path is the
/// unique parent of the previous node, so every token is learnable; reversed back before scoring.
/// </summary>
[Method("reverse", "next-token prediction of the reversed target")]
public sealed class Reverse(MethodContext context) : AutoregressiveMethod(context)
{
    protected override Tensor ToTrainingOrder(Tensor target) => target.flip(1);
    protected override Tensor ToTaskOrder(Tensor target) => target.flip(1);
}
