using Foresight.Models;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Foresight.Tests;

/// <summary>
/// The backbones' fast paths (attention's mask and scale in one pass, the Mamba's convolution as shifted
/// multiply-adds and its fused scan) against plain libtorch written from the papers' equations with the same weights:
/// libtorch's own scaled_dot_product_attention, Conv1d and the scan in libtorch operations. A fixed batch's loss and every
/// gradient agree to fp32 rounding; in bf16 the loss stays within bf16 noise of the fp32 reference.
/// </summary>
public sealed class FastPathTests
{
    private const int Vocabulary = 13, Length = 9, Batch = 4;

    [Theory]
    [InlineData(true, Precision.Fp32, 1e-5)]
    [InlineData(false, Precision.Fp32, 1e-5)]
    [InlineData(true, Precision.Bf16, 2e-2)]
    public void A_gpts_loss_and_gradients_match_libtorchs_attention(bool causal, Precision precision, double tolerance)
    {
        manual_seed(3);
        using var model = new Gpt(new GptConfig(Vocabulary, Length, Layers: 2, Width: 16, Heads: 2, causal, Precision: precision));
        var (tokens, targets) = FixedBatch();
        var fast = F.cross_entropy(model.forward(tokens).flatten(0, 1), targets);
        var reference = F.cross_entropy(ReferenceGpt(Parameters(model), tokens, layers: 2, heads: 2, causal).flatten(0, 1), targets);
        AssertClose(reference, fast, tolerance, "loss");
        if (precision == Precision.Fp32) AssertSameGradients(model, fast, reference, tolerance);
    }

    [Theory]
    [InlineData(Precision.Fp32, 1e-5)]
    [InlineData(Precision.Bf16, 2e-2)]
    public void A_mambas_loss_and_gradients_match_conv1d_and_the_libtorch_scan(Precision precision, double tolerance)
    {
        manual_seed(4);
        var config = new MambaConfig(Vocabulary, Length, Layers: 2, Width: 16, InnerWidth: 24, Precision: precision);
        using var model = new Mamba(config);
        var (tokens, targets) = FixedBatch();
        var fast = F.cross_entropy(model.forward(tokens).flatten(0, 1), targets);
        var reference = F.cross_entropy(ReferenceMamba(Parameters(model), tokens, config).flatten(0, 1), targets);
        AssertClose(reference, fast, tolerance, "loss");
        if (precision == Precision.Fp32) AssertSameGradients(model, fast, reference, 1e-4);
    }

    private static (Tensor Tokens, Tensor Targets) FixedBatch()
    {
        var tokens = randint(0, Vocabulary, [Batch, Length]);
        return (tokens, randint(0, Vocabulary, [Batch * Length]));
    }

    private static Dictionary<string, Tensor> Parameters(nn.Module model) =>
        model.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter);

    /// <summary>nanoGPT's forward in fp32: pre-LayerNorm blocks, libtorch's fused attention, a GELU MLP, the tied output layer.</summary>
    private static Tensor ReferenceGpt(Dictionary<string, Tensor> w, Tensor tokens, int layers, int heads, bool causal)
    {
        long b = tokens.shape[0], t = tokens.shape[1], c = w["token_embedding.weight"].shape[1], d = c / heads;
        var x = w["token_embedding.weight"].index_select(0, tokens.flatten()).view(tokens.shape[0], tokens.shape[1], -1) + w["position_embedding.weight"].narrow(0, 0, t); // (B, T, C)
        for (int l = 0; l < layers; l++)
        {
            string p = $"blocks.{l}.";
            var h = F.layer_norm(x, [c], w[p + "attention_norm.weight"], w[p + "attention_norm.bias"]);
            var qkv = F.linear(h, w[p + "attention.qkv.weight"], w[p + "attention.qkv.bias"]).view(b, t, 3, heads, d).permute(2, 0, 3, 1, 4); // (3, B, H, T, D)
            var attended = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], null, 0, causal).transpose(1, 2).reshape(b, t, c);
            x = x + F.linear(attended, w[p + "attention.output_projection.weight"], w[p + "attention.output_projection.bias"]);
            h = F.layer_norm(x, [c], w[p + "mlp_norm.weight"], w[p + "mlp_norm.bias"]);
            x = x + F.linear(F.gelu(F.linear(h, w[p + "mlp.expand.weight"], w[p + "mlp.expand.bias"])), w[p + "mlp.output_projection.weight"], w[p + "mlp.output_projection.bias"]);
        }
        return F.linear(F.layer_norm(x, [c], w["final_norm.weight"], w["final_norm.bias"]), w["token_embedding.weight"]); // (B, T, V)
    }

    /// <summary>Gu and Dao's block in fp32: a depthwise causal Conv1d, then the scan in libtorch operations.</summary>
    private static Tensor ReferenceMamba(Dictionary<string, Tensor> w, Tensor tokens, MambaConfig config)
    {
        long t = tokens.shape[1];
        var x = w["token_embedding.weight"].index_select(0, tokens.flatten()).view(tokens.shape[0], tokens.shape[1], -1);
        for (int l = 0; l < config.Layers; l++)
        {
            string p = $"blocks.{l}.";
            var h = F.layer_norm(x, [config.Width], w[p + "norm.weight"], w[p + "norm.bias"]);
            var xz = F.linear(h, w[p + "in_projection.weight"]).chunk(2, -1);
            var convolved = F.conv1d(xz[0].transpose(1, 2), w[p + "convolution.weight"], w[p + "convolution.bias"], padding: config.ConvolutionWidth - 1,
                groups: config.InnerWidth).narrow(2, 0, t).transpose(1, 2);
            var u = F.silu(convolved);
            var parts = F.linear(u, w[p + "x_projection.weight"]).split([config.StepRank, config.StateSize, config.StateSize], -1);
            var delta = F.softplus(F.linear(parts[0], w[p + "step_projection.weight"], w[p + "step_projection.bias"]));
            var y = Mamba.SelectiveScanReference(u, delta, -w[p + "A_log"].exp(), parts[1], parts[2], w[p + "D"]);
            x = x + F.linear(y * F.silu(xz[1]), w[p + "out_projection.weight"]);
        }
        return F.linear(F.layer_norm(x, [config.Width], w["final_norm.weight"], w["final_norm.bias"]), w["token_embedding.weight"]);
    }

    private static void AssertSameGradients(nn.Module model, Tensor fast, Tensor reference, double tolerance)
    {
        var named = model.named_parameters().ToList();
        var parameters = named.Select(p => (Tensor)p.parameter).ToList();
        var fastGradients = autograd.grad([fast], parameters, retain_graph: true);
        var referenceGradients = autograd.grad([reference], parameters);
        for (int i = 0; i < named.Count; i++) AssertClose(referenceGradients[i], fastGradients[i], tolerance, named[i].name);
    }

    private static void AssertClose(Tensor expected, Tensor actual, double tolerance, string what)
    {
        double scale = Math.Max(expected.abs().max().item<float>(), 1e-3), difference = (actual - expected).abs().max().item<float>();
        Assert.True(difference <= tolerance * scale, $"{what}: max difference {difference} against a scale of {scale}");
    }
}
