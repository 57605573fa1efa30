using Foresight.Methods;
using Foresight.Models;

namespace Foresight.Bench;

/// <summary>
/// Model FLOPs, counted in one place. A training example costs three forward passes' worth of matrix
/// multiplies (the forward, and the backward's two products per weight), each token of it:
///   6 × (weights of every linear layer + the tied output layer V × C)  +  12 × L × C × T (attention: QKᵀ and AV, the causal half counted in full),
/// summed over the tokens the method processes (<see cref="ITrainingMethod.TokensPerExample"/>), as PaLM's
/// appendix counts them. Norms, softmax, the loss and a Mamba's scan are elementwise and not counted, so
/// MFU compares only the multiplies with the machine's multiply peak. Exact for a method that runs one backbone
/// over each token once; for one with a second model or extra heads every linear layer is counted on every token,
/// an upper bound.
/// </summary>
public static class ModelFlops
{
    public static double TrainingPerExample(ITrainingMethod method) => 3 * ForwardPerExample(method);

    public static double ForwardPerExample(ITrainingMethod method)
    {
        int tokens = method.TokensPerExample;
        double weights = 0, attention = 0;
        foreach (var module in method.Model.modules().Prepend(method.Model).Distinct()) // modules() leaves out the root itself
        {
            if (module is TorchSharp.Modules.Linear linear) weights += linear.weight!.numel();
            if (module is Backbone backbone) weights += (double)backbone.VocabularySize * backbone.Width; // the tied output layer
            if (module is Gpt gpt) attention += 4.0 * gpt.Config.Layers * gpt.Config.Width * tokens; // per token: QKᵀ and AV, 2 T C each per layer
        }
        return tokens * (2 * weights + attention);
    }
}
