using AngleSharp.Html.Parser;
using Registry.Web.Markdown;

namespace Registry.Tests.Web.Cards;

/// <summary>What a card may and may not put into the page.</summary>
public class MarkdownRendererTests
{
    private static readonly MarkdownRenderer Renderer = new();

    private static AngleSharp.Html.Dom.IHtmlDocument Dom(string markdown) =>
        new HtmlParser().ParseDocument("<body>" + Renderer.ToSafeHtml(markdown) + "</body>");

    /// <summary>No element that runs or embeds anything, no on* attribute, no href/src outside http(s)/mailto/relative.</summary>
    private static void AssertInert(string markdown)
    {
        var html = Renderer.ToSafeHtml(markdown);
        var dom = Dom(markdown);
        foreach (var tag in new[] { "script", "iframe", "object", "embed", "style", "svg", "math", "form", "input", "link", "meta", "base" })
            Assert.True(dom.QuerySelectorAll(tag).Length == 0, $"<{tag}> survived: {html}");
        foreach (var element in dom.Body!.QuerySelectorAll("*"))
        {
            foreach (var attribute in element.Attributes)
            {
                Assert.False(attribute.Name.StartsWith("on", StringComparison.OrdinalIgnoreCase), $"{attribute.Name} survived: {html}");
                Assert.NotEqual("class", attribute.Name);
                Assert.NotEqual("id", attribute.Name);
                if (attribute.Name is "href" or "src")
                {
                    var value = new string(attribute.Value.Where(c => !char.IsWhiteSpace(c) && !char.IsControl(c)).ToArray());
                    var colon = value.IndexOf(':', StringComparison.Ordinal);
                    var slash = value.IndexOfAny(['/', '?', '#']);
                    if (colon >= 0 && (slash < 0 || colon < slash))
                        Assert.Contains(value[..colon].ToLowerInvariant(), new[] { "http", "https", "mailto" });
                }
            }
        }
    }

    [Theory]
    [InlineData("<script>window.pwned=1</script>")]
    [InlineData("before <script>alert(1)</script> after")]
    [InlineData("<img src=x onerror=\"window.pwned=1\">")]
    [InlineData("<iframe src=\"https://evil.example\"></iframe>")]
    [InlineData("<a href=\"javascript:alert(1)\">x</a>")]
    [InlineData("<svg onload=alert(1)>")]
    [InlineData("<style>body{display:none}</style>")]
    [InlineData("[click](javascript:window.pwned=1)")]
    [InlineData("[click](JaVaScRiPt:alert(1))")]
    [InlineData("[click](  javascript:alert(1))")]
    [InlineData("[click](&#106;avascript:alert(1))")]
    [InlineData("[click](&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;:alert(1))")]
    [InlineData("[click](java&#x09;script:alert(1))")]
    [InlineData("[click](vbscript:msgbox(1))")]
    [InlineData("[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)")]
    [InlineData("<javascript:alert(1)>")]
    [InlineData("![x](javascript:alert(1))")]
    [InlineData("![x](data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=)")]
    [InlineData("[ref]\n\n[ref]: javascript:alert(1)")]
    [InlineData("[x](https://example.com){onclick=\"alert(1)\" onmouseover=alert(1)}")]
    [InlineData("# Heading {#main-content .mud-overlay}")]
    [InlineData("![video](https://www.youtube.com/watch?v=dQw4w9WgXcQ)")]
    public void Hostile_cards_render_inert(string markdown) => AssertInert(markdown);

    [Fact]
    public void Raw_html_is_shown_as_text_not_parsed()
    {
        var html = Renderer.ToSafeHtml("<script>window.pwned=1</script>\n\n<img src=x onerror=\"window.pwned=1\">");
        Assert.Contains("&lt;script&gt;", html);
        var dom = Dom("<img src=x onerror=\"window.pwned=1\">");
        Assert.Empty(dom.QuerySelectorAll("img"));
        Assert.Contains("<img src=x onerror=", dom.Body!.TextContent);
    }

    [Fact]
    public void A_javascript_link_keeps_its_text_and_loses_its_target()
    {
        var dom = Dom("[click](javascript:window.pwned=1)");
        var link = Assert.Single(dom.QuerySelectorAll("a"));
        Assert.Equal("click", link.TextContent);
        Assert.Null(link.GetAttribute("href"));
    }

    [Fact]
    public void Normal_markdown_survives_links_get_a_safe_rel()
    {
        var dom = Dom("""
            # Fraud scorer

            See [the docs](https://example.com/docs?a=1&b=2), [the model](/models/fraud) or <mailto:ml@example.com>.

            | metric | value |
            |--------|------:|
            | auc    | 0.93  |

            ```python
            print("hi")
            ```

            - **bold** and *em* and `code`
            > quoted
            """);
        Assert.Equal("Fraud scorer", dom.QuerySelector("h1")!.TextContent);
        var links = dom.QuerySelectorAll("a").ToList();
        Assert.Equal(["https://example.com/docs?a=1&b=2", "/models/fraud", "mailto:ml@example.com"], links.Select(a => a.GetAttribute("href")));
        Assert.All(links, a => Assert.Equal(MarkdownRenderer.LinkRel, a.GetAttribute("rel")));
        Assert.Equal(["metric", "value"], dom.QuerySelectorAll("table th").Select(t => t.TextContent));
        Assert.Equal(["auc", "0.93"], dom.QuerySelectorAll("table td").Select(t => t.TextContent));
        Assert.Contains("text-align: right", dom.QuerySelectorAll("table td")[1].GetAttribute("style"));
        Assert.Contains("print(\"hi\")", dom.QuerySelector("pre code")!.TextContent);
        Assert.NotNull(dom.QuerySelector("li strong"));
        Assert.NotNull(dom.QuerySelector("blockquote"));
    }

    [Fact]
    public void Nothing_renders_as_nothing()
    {
        Assert.Equal("", Renderer.ToSafeHtml(null));
        Assert.Equal("", Renderer.ToSafeHtml("  \n "));
    }
}
