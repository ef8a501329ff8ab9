using System.Text;
using System.Text.Json;
using AiGateway.Tokens;

namespace AiGateway.Tests.Tokens;

public class ImageTokenEstimatorTests
{
    // Examples from OpenAI's vision guide: 1024×1024 high → 765; 2048×4096 high → 1105; any size low → 85.
    [Theory]
    [InlineData(false, 1024, 1024, 765)]
    [InlineData(false, 2048, 4096, 1105)]
    [InlineData(true, 4096, 8192, 85)]
    [InlineData(false, 512, 512, 255)]
    [InlineData(false, 100, 100, 255)]
    [InlineData(false, 768, 2048, 1445)]
    [InlineData(false, null, null, 765)]
    public void Estimate_SizeAndDetail_FollowsTileRule(bool lowDetail, int? width, int? height, int expected) =>
        Assert.Equal(expected, ImageTokenEstimator.Estimate(lowDetail, width, height));

    [Theory]
    [InlineData("png", 2048, 4096, 1105)]
    [InlineData("gif", 300, 200, 255)]
    [InlineData("jpeg", 1024, 1024, 765)]
    [InlineData("webp", 1024, 1024, 765)]
    public void TryEstimate_DataUrl_ReadsSizeFromHeader(string format, int width, int height, int expected)
    {
        string url = $"data:image/{format};base64,{Convert.ToBase64String(Header(format, width, height))}";
        using var document = JsonDocument.Parse(JsonSerializer.Serialize(new { url }));

        Assert.True(ImageTokenEstimator.TryEstimate(document.RootElement, out int tokens));
        Assert.Equal(expected, tokens);
    }

    [Fact]
    public void TryEstimate_DataUrlWithEscapedSlashes_ReadsSize()
    {
        string base64 = Convert.ToBase64String(PromptTokenCounterTests.PngHeader(2048, 4096)).Replace("/", "\\/", StringComparison.Ordinal);
        using var document = JsonDocument.Parse($$"""{"url":"data:image/png;base64,{{base64}}"}""");

        Assert.True(ImageTokenEstimator.TryEstimate(document.RootElement, out int tokens));
        Assert.Equal(1105, tokens);
    }

    [Theory]
    [InlineData("""{"url":"https://example.com/a.png"}""", 765)]
    [InlineData("""{"url":"https://example.com/a.png","detail":"low"}""", 85)]
    [InlineData("""{"url":"https://example.com/a.png","detail":"high"}""", 765)]
    [InlineData("""{"url":"data:image/png;base64,!!!notbase64"}""", 765)]
    [InlineData("""{"url":"data:image/png;base64,"}""", 765)]
    [InlineData("\"https://example.com/a.png\"", 765)]
    public void TryEstimate_UnknownSize_UsesFixedEstimate(string json, int expected)
    {
        using var document = JsonDocument.Parse(json);

        Assert.True(ImageTokenEstimator.TryEstimate(document.RootElement, out int tokens));
        Assert.Equal(expected, tokens);
    }

    [Theory]
    [InlineData("42")]
    [InlineData("""{"detail":"low"}""")]
    [InlineData("""{"url":7}""")]
    public void TryEstimate_BadShape_ReturnsFalse(string json)
    {
        using var document = JsonDocument.Parse(json);

        Assert.False(ImageTokenEstimator.TryEstimate(document.RootElement, out _));
    }

    [Theory]
    [InlineData("png", 2048, 4096, 1105)]
    [InlineData("gif", 300, 200, 255)]
    [InlineData("jpeg", 1024, 1024, 765)]
    [InlineData("webp", 1024, 1024, 765)]
    public void EstimateAnthropicSource_Base64_ReadsSizeLikeTheDataUrlItBecomes(string format, int width, int height, int expected)
    {
        string data = Convert.ToBase64String(Header(format, width, height));
        using var document = JsonDocument.Parse($$"""{"type":"base64","media_type":"image/{{format}}","data":"{{data.Replace("/", "\\/", StringComparison.Ordinal)}}"}""");

        Assert.Equal(expected, ImageTokenEstimator.EstimateAnthropicSource(document.RootElement));
    }

    [Theory]
    [InlineData("""{"type":"url","url":"https://example.com/a.png"}""")]
    [InlineData("""{"type":"file","file_id":"file_01"}""")]
    [InlineData("""{"type":"base64","media_type":"application/pdf","data":"iVBORw0KGgo="}""")]
    [InlineData("""{"type":"base64","media_type":"image/png","data":"!!!notbase64"}""")]
    [InlineData("""{"type":"base64","media_type":"image/png"}""")]
    [InlineData("42")]
    public void EstimateAnthropicSource_UnknownSize_UsesFixedEstimate(string json)
    {
        using var document = JsonDocument.Parse(json);

        Assert.Equal(ImageTokenEstimator.UnknownSizeTokens, ImageTokenEstimator.EstimateAnthropicSource(document.RootElement));
    }

    private static byte[] Header(string format, int width, int height)
    {
        switch (format)
        {
            case "png":
                return PromptTokenCounterTests.PngHeader(width, height);
            case "gif":
                var gif = new byte[13];
                Encoding.ASCII.GetBytes("GIF89a").CopyTo(gif, 0);
                BitConverter.GetBytes((ushort)width).CopyTo(gif, 6);
                BitConverter.GetBytes((ushort)height).CopyTo(gif, 8);
                return gif;
            case "jpeg":
                // SOI, an APP0 segment to skip, then SOF0 with height and width big-endian.
                byte[] jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0x00, 0x00, 0xFF, 0xC0, 0x00, 0x11, 0x08, 0, 0, 0, 0, 0x03, 0, 0, 0];
                jpeg[13] = (byte)(height >> 8);
                jpeg[14] = (byte)height;
                jpeg[15] = (byte)(width >> 8);
                jpeg[16] = (byte)width;
                return jpeg;
            default:
                var webp = new byte[30];
                Encoding.ASCII.GetBytes("RIFF").CopyTo(webp, 0);
                Encoding.ASCII.GetBytes("WEBPVP8X").CopyTo(webp, 8);
                webp[24] = (byte)(width - 1);
                webp[25] = (byte)((width - 1) >> 8);
                webp[27] = (byte)(height - 1);
                webp[28] = (byte)((height - 1) >> 8);
                return webp;
        }
    }
}
