using Foresight.Models;
using static TorchSharp.torch;

namespace Foresight.Tests;

/// <summary>The transformer's position encodings.</summary>
public sealed class GptTests
{
    private static Gpt Build(PositionEncoding positions)
    {
        manual_seed(0);
        return new Gpt(new GptConfig(VocabularySize: 12, BlockSize: 8, Layers: 1, Width: 16, Heads: 2, Causal: false, positions));
    }

    [Theory]
    [InlineData(PositionEncoding.Learned)]
    [InlineData(PositionEncoding.Rotary)]
    public void Without_a_causal_mask_only_the_position_encoding_tells_positions_apart(PositionEncoding positions)
    {
        using var model = Build(positions);
        using var _ = no_grad();
        foreach (var (name, p) in model.named_parameters())
            if (name.Contains("qkv")) p.mul_(50); // at the 0.02 init attention is almost uniform; make it selective
        // Float noise alone would be ~1e-7: differences of 1e-5 and more mean the positions were seen.
        var tokens = tensor(new long[] { 1, 2, 3, 4, 5, 6 }).unsqueeze(0);
        var swapped = tensor(new long[] { 1, 2, 3, 4, 6, 5 }).unsqueeze(0); // the last two swapped
        // Position 0 sees the same bag of tokens either way; it can only tell the difference from where they sit.
        var before = model.Hidden(tokens).select(1, 0);
        var after = model.Hidden(swapped).select(1, 0);
        Assert.True((before - after).abs().max().item<float>() > 1e-5, $"max diff {(before - after).abs().max().item<float>()}");
        Assert.Equal(positions == PositionEncoding.Learned, model.named_parameters().Any(p => p.name.Contains("position_embedding")));
    }

    [Fact]
    public void Rotary_query_key_products_depend_on_the_offset_only()
    {
        manual_seed(1);
        const int T = 7, D = 8;
        var q = Gpt.Rotate(randn(1, 1, 1, D).expand(1, 1, T, D)).squeeze(0).squeeze(0); // the same query at every position
        var k = Gpt.Rotate(randn(1, 1, 1, D).expand(1, 1, T, D)).squeeze(0).squeeze(0); // the same key at every position
        var scores = q.matmul(k.t()); // (T, T): query at m against key at n
        for (int m = 0; m + 1 < T; m++)
            for (int n = 0; n + 1 < T; n++)
                Assert.Equal(scores[m, n].item<float>(), scores[m + 1, n + 1].item<float>(), 4);
        Assert.NotEqual(scores[0, 0].item<float>(), scores[0, 3].item<float>(), 3); // but offsets do matter
        Assert.True(Gpt.Rotate(q.unsqueeze(0).unsqueeze(0)).norm().allclose(q.norm())); // a rotation keeps lengths
    }

    [Theory]
    [InlineData(PositionEncoding.Learned, Precision.Fp32, 1e-5)]
    [InlineData(PositionEncoding.Rotary, Precision.Fp32, 1e-5)]
    [InlineData(PositionEncoding.Learned, Precision.Bf16, 2e-2)] // bf16 rounds the cached keys where the full pass rounds its own
    public void Cached_decoding_gives_the_logits_of_re_reading_the_whole_sequence(PositionEncoding positions, Precision precision, double tolerance)
    {
        manual_seed(2);
        using var model = new Gpt(new GptConfig(VocabularySize: 12, BlockSize: 10, Layers: 2, Width: 16, Heads: 2, Causal: true, positions, Precision: precision));
        using var _ = no_grad();
        foreach (var (name, p) in model.named_parameters())
            if (name.Contains("qkv")) p.mul_(20); // selective attention, so a wrong mask or position would show
        var sequence = randint(0, 12, [3, 10]);
        using var decoder = model.StartDecoding()!;
        foreach (int length in new[] { 6, 7, 8, 10 }) // the prefix in one call, then one token, then two at once
        {
            var cached = decoder.NextLogits(sequence.narrow(1, 0, length));
            var full = model.forward(sequence.narrow(1, 0, length)).select(1, -1);
            double difference = (cached - full).abs().max().item<float>();
            Assert.True(difference < tolerance * full.abs().max().item<float>(), $"length {length}: max difference {difference}");
        }
    }

    [Fact]
    public void Only_a_fully_causal_gpt_decodes_from_a_cache()
    {
        var config = new GptConfig(VocabularySize: 12, BlockSize: 8, Layers: 1, Width: 16, Heads: 2);
        using (var causal = new Gpt(config)) Assert.NotNull(causal.StartDecoding());
        using (var bidirectional = new Gpt(config with { Causal = false })) Assert.Null(bidirectional.StartDecoding());
        using (var causalPrefix = new Gpt(config with { BidirectionalTail = 3 })) Assert.Null(causalPrefix.StartDecoding());
    }
}
