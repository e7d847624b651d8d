using System;
using System.IO;
using Org.BouncyCastle.Crypto.Parameters;
using WgTroubleshoot.Loading;
using YamlDotNet.Core;

namespace WgTroubleshoot.Engine
{
    /// <summary>
    /// The module's adapter over BouncyCastle and YamlDotNet. Created by reflection by
    /// WgTroubleshoot.Loading.DependencyLoader in the module's own load context; only the module's and the
    /// framework's types leave it.
    /// </summary>
    public sealed class DependencyEngine : IDependencyEngine
    {
        /// <inheritdoc />
        byte[] IDependencyEngine.X25519PublicKey(byte[] privateKey)
        {
            var p = new X25519PrivateKeyParameters(privateKey, 0);
            return p.GeneratePublicKey().GetEncoded();
        }

        /// <summary>Text longer than this (characters) is not parsed.</summary>
        internal const int MaxYamlChars = 1024 * 1024;

        /// <summary>Collections nested deeper than this are refused (a policy needs four levels).</summary>
        internal const int MaxYamlDepth = 64;

        /// <summary>Nodes of the document counted with every alias expanded: more is refused (an alias bomb).</summary>
        internal const int MaxYamlNodes = 100000;

        /// <inheritdoc />
        YamlTreeNode IDependencyEngine.ParseYaml(string text)
        {
            text = text ?? "";
            if (text.Length > MaxYamlChars)
                throw new YamlSyntaxException(1, 1, $"the text is {text.Length} characters long; at most {MaxYamlChars} are read.");
            var scanner = new Scanner(new StringReader(text));
            try
            {
                return Build(new Parser(scanner));
            }
            catch (YamlException ex)
            {
                throw new YamlSyntaxException(ToInt(ex.Start.Line), ToInt(ex.Start.Column), Describe(ex), ex);
            }
            catch (InvalidOperationException ex)
            {
                // YamlDotNet throws this (not a YamlException) for some broken flow collections: report where its scanner stopped.
                var at = scanner.CurrentPosition;
                throw new YamlSyntaxException(ToInt(at.Line), ToInt(at.Column), "the text is not valid YAML here (an unclosed [ or { ?).", ex);
            }
        }

        /// <summary>One open mapping or sequence while the tree is built.</summary>
        private sealed class Frame
        {
            public YamlTreeNode Node;
            public YamlTreeNode PendingKey;
            public System.Collections.Generic.HashSet<string> Keys;
            public long NodesAtStart;
            public string Anchor;
        }

        /// <summary>
        /// Builds the tree from the parser's events with an explicit stack (no recursion, so no nesting can
        /// overflow the stack), refusing more than <see cref="MaxYamlDepth"/> levels, more than
        /// <see cref="MaxYamlNodes"/> nodes with aliases expanded, duplicate keys, unknown aliases and a second
        /// document. Aliases share the anchored node (the tree is read-only).
        /// </summary>
        private static YamlTreeNode Build(IParser parser)
        {
            var anchors = new System.Collections.Generic.Dictionary<string, (YamlTreeNode Node, long Size)>(StringComparer.Ordinal);
            var stack = new System.Collections.Generic.Stack<Frame>();
            YamlTreeNode root = null;
            bool haveDocument = false, rootDone = false;
            long nodes = 0;

            void Add(YamlTreeNode node, YamlDotNet.Core.Events.ParsingEvent at)
            {
                if (stack.Count == 0) { root = node; rootDone = true; return; }
                var top = stack.Peek();
                if (top.Node.Kind == YamlTreeKind.Sequence) { top.Node.Items.Add(node); return; }
                if (top.PendingKey == null)
                {
                    if (node.Kind == YamlTreeKind.Scalar && !top.Keys.Add(node.Value))
                        throw new YamlSyntaxException(node.Line, node.Column, $"the key '{Short(node.Value)}' appears twice in the same mapping.");
                    top.PendingKey = node;
                    return;
                }
                top.Node.Entries.Add(new System.Collections.Generic.KeyValuePair<YamlTreeNode, YamlTreeNode>(top.PendingKey, node));
                top.PendingKey = null;
            }

            void Count(long n, YamlDotNet.Core.Events.ParsingEvent at)
            {
                nodes += n;
                if (nodes > MaxYamlNodes)
                    throw new YamlSyntaxException(ToInt(at.Start.Line), ToInt(at.Start.Column),
                        $"the document expands to more than {MaxYamlNodes} nodes (aliases counted as copies): refused.");
            }

            while (parser.MoveNext())
            {
                var ev = parser.Current;
                int line = ToInt(ev.Start.Line), column = ToInt(ev.Start.Column);
                switch (ev)
                {
                    case YamlDotNet.Core.Events.StreamStart _:
                    case YamlDotNet.Core.Events.StreamEnd _:
                    case YamlDotNet.Core.Events.DocumentEnd _:
                    case YamlDotNet.Core.Events.Comment _:
                        break;
                    case YamlDotNet.Core.Events.DocumentStart _:
                        if (haveDocument)
                        {
                            // the position of the second document's first node, as the reader sees it
                            if (parser.MoveNext() && !(parser.Current is YamlDotNet.Core.Events.DocumentEnd)) { line = ToInt(parser.Current.Start.Line); column = ToInt(parser.Current.Start.Column); }
                            throw new YamlSyntaxException(line, column, "the file holds more than one YAML document; a policy is one document.");
                        }
                        haveDocument = true;
                        break;
                    case YamlDotNet.Core.Events.Scalar scalar:
                    {
                        Count(1, ev);
                        var node = new YamlTreeNode
                        {
                            Kind = YamlTreeKind.Scalar, Line = line, Column = column, Value = scalar.Value ?? "",
                            IsPlain = scalar.Style == ScalarStyle.Plain || scalar.Style == ScalarStyle.Any,
                        };
                        if (!scalar.Anchor.IsEmpty) anchors[scalar.Anchor.Value] = (node, 1);
                        Add(node, ev);
                        break;
                    }
                    case YamlDotNet.Core.Events.AnchorAlias alias:
                    {
                        if (!anchors.TryGetValue(alias.Value.Value, out var target))
                            throw new YamlSyntaxException(line, column, $"the alias *{Short(alias.Value.Value)} names no anchor before it.");
                        Count(target.Size, ev);
                        Add(target.Node, ev);
                        break;
                    }
                    case YamlDotNet.Core.Events.MappingStart _:
                    case YamlDotNet.Core.Events.SequenceStart _:
                    {
                        Count(1, ev);
                        if (stack.Count >= MaxYamlDepth)
                            throw new YamlSyntaxException(line, column, $"the collections are nested more than {MaxYamlDepth} levels deep: refused.");
                        var isMap = ev is YamlDotNet.Core.Events.MappingStart;
                        var anchor = ((YamlDotNet.Core.Events.NodeEvent)ev).Anchor;
                        stack.Push(new Frame
                        {
                            Node = new YamlTreeNode { Kind = isMap ? YamlTreeKind.Mapping : YamlTreeKind.Sequence, Line = line, Column = column },
                            Keys = isMap ? new System.Collections.Generic.HashSet<string>(StringComparer.Ordinal) : null,
                            NodesAtStart = nodes - 1,
                            Anchor = anchor.IsEmpty ? null : anchor.Value,
                        });
                        break;
                    }
                    case YamlDotNet.Core.Events.MappingEnd _:
                    case YamlDotNet.Core.Events.SequenceEnd _:
                    {
                        var done = stack.Pop();
                        if (done.Anchor != null) anchors[done.Anchor] = (done.Node, nodes - done.NodesAtStart);
                        Add(done.Node, ev);
                        break;
                    }
                    default:
                        throw new YamlSyntaxException(line, column, $"unexpected YAML event ({ev.GetType().Name}).");
                }
            }
            return rootDone ? root : null;
        }

        private static string Short(string s) => s == null ? "" : s.Length > 40 ? s.Substring(0, 40) + "..." : s;

        /// <inheritdoc />
        string IDependencyEngine.Serialize(object data, bool json)
        {
            var builder = new YamlDotNet.Serialization.SerializerBuilder();
            if (json) builder = builder.JsonCompatible();
            return builder.Build().Serialize(data);
        }

        private static string Describe(YamlException ex)
        {
            // YamlDotNet's messages start with "(Lin: 3, Col: 5, Chr: 20) - (...): "; the caller gives the position.
            var message = ex.Message ?? "the text is not valid YAML.";
            var cut = message.IndexOf("): ", StringComparison.Ordinal);
            if (message.StartsWith("(", StringComparison.Ordinal) && cut > 0) message = message.Substring(cut + 3);
            return message.Length == 0 ? "the text is not valid YAML." : char.ToLowerInvariant(message[0]) + message.Substring(1);
        }

        private static int ToInt(long value) => value > int.MaxValue ? int.MaxValue : (int)value;
    }
}
