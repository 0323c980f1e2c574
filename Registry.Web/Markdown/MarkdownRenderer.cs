using AngleSharp.Html.Dom;
using Ganss.Xss;
using Markdig;
using Microsoft.AspNetCore.Components;

namespace Registry.Web.Markdown;

/// <summary>
/// Turns a model card's Markdown into HTML that is safe to put into the page. Two locks, each
/// enough on its own for the common attacks: Markdig writes raw HTML in the Markdown out as text
/// (<c>DisableHtml</c>), and an allow-list sanitiser then removes every tag, attribute and URL scheme
/// it does not know to be harmless — which also catches what Markdig itself emits from Markdown
/// (a <c>javascript:</c> link, generic attributes such as <c>{onclick=…}</c>, media-link iframes).
/// Every place that shows a card goes through here; thread-safe, one instance for the app.
/// </summary>
public sealed class MarkdownRenderer
{
    private static readonly string[] Tags =
    [
        "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "b", "i", "del", "s", "ins", "mark", "sub", "sup",
        "code", "pre", "kbd", "blockquote", "ul", "ol", "li", "dl", "dt", "dd", "table", "thead", "tbody", "tfoot", "tr", "th", "td",
        "caption", "a", "img", "span", "div", "figure", "figcaption", "abbr", "cite",
    ];

    // No id (headings would clobber the page's own ids), no class (a card must not borrow the
    // page's styles to cover it), no event handlers, no data-*. Style only for table alignment.
    private static readonly string[] Attributes = ["href", "src", "alt", "title", "start", "colspan", "rowspan", "style"];

    private static readonly string[] Schemes = ["http", "https", "mailto"];

    public const string LinkRel = "noopener noreferrer nofollow";

    private readonly MarkdownPipeline _pipeline = new MarkdownPipelineBuilder()
        .UseAdvancedExtensions()
        .DisableHtml()
        .Build();

    private readonly HtmlSanitizer _sanitizer = CreateSanitizer();

    private static HtmlSanitizer CreateSanitizer()
    {
        var options = new HtmlSanitizerOptions
        {
            AllowedTags = new HashSet<string>(Tags, StringComparer.OrdinalIgnoreCase),
            AllowedAttributes = new HashSet<string>(Attributes, StringComparer.OrdinalIgnoreCase),
            AllowedSchemes = new HashSet<string>(Schemes, StringComparer.OrdinalIgnoreCase),
            UriAttributes = new HashSet<string>(["href", "src"], StringComparer.OrdinalIgnoreCase),
            AllowedCssProperties = new HashSet<string>(["text-align"], StringComparer.OrdinalIgnoreCase),
            AllowedAtRules = new HashSet<AngleSharp.Css.Dom.CssRuleType>(),
            UriListAttributes = new HashSet<string>(),
            AllowDataAttributes = false,
        };
        var sanitizer = new HtmlSanitizer(options);
        sanitizer.PostProcessNode += (_, e) =>
        {
            // A card's links lead away from the registry: no opener, no referrer, no endorsement.
            if (e.Node is IHtmlAnchorElement a) a.SetAttribute("rel", LinkRel);
        };
        return sanitizer;
    }

    /// <summary>The sanitised HTML of <paramref name="markdown"/>; empty for none.</summary>
    public string ToSafeHtml(string? markdown)
    {
        if (string.IsNullOrWhiteSpace(markdown)) return "";
        var html = Markdig.Markdown.ToHtml(markdown, _pipeline);
        return _sanitizer.Sanitize(html);
    }

    /// <summary>For Razor: the sanitised HTML as markup. The only way a card reaches a page.</summary>
    public MarkupString Render(string? markdown) => new(ToSafeHtml(markdown));
}
