using System;
using System.Collections;
using System.Collections.Generic;
using System.Collections.Specialized;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Reflection;
using WgTroubleshoot.Bundle;

namespace WgTroubleshoot.Snapshot
{
    /// <summary>
    /// Writes a <see cref="HostSnapshot"/> as JSON and reads it back, alone or out of a support bundle. Only
    /// properties with a public getter and setter are written (derived values are computed again on reading);
    /// every secret the collector saw is scrubbed from the text as a last guard (the model holds none).
    /// Reading is bounded: size, depth and the schema version are checked, and bad input is a WgSnapshotInvalid error.
    /// </summary>
    public static class SnapshotJson
    {
        public const string ErrorIdInvalid = ErrorIds.SnapshotInvalid;
        /// <summary>The largest file read (a 10,000-peer snapshot is about 15 MB).</summary>
        public const long MaxBytes = 256L * 1024 * 1024;

        /// <summary>The snapshot as plain data (ordered dictionaries, lists, scalars) for JsonWriter or a bundle section.</summary>
        public static object ToTree(object value) => Tree(value, 0);

        public static string Write(HostSnapshot snapshot, IEnumerable<string> secrets = null)
        {
            var text = new JsonWriter().WriteValue(ToTree(snapshot)).ToString() + "\n";
            return secrets == null ? text : Redaction.Scrub(text, secrets, out _);
        }

        /// <summary>Reads a snapshot file or a support bundle that holds one.</summary>
        public static HostSnapshot ReadFile(string path)
        {
            var info = new FileInfo(path);
            if (!info.Exists)
                throw new WgException(ErrorIds.ConfigNotFound, ErrorCategory.ObjectNotFound, $"The snapshot '{path}' does not exist.", path);
            if (info.Length > MaxBytes)
                throw Invalid(path, $"it is {info.Length} bytes, more than the {MaxBytes} a snapshot may have");
            return Read(File.ReadAllText(path), path);
        }

        public static HostSnapshot Read(string text, string source = "(text)")
        {
            object root;
            try
            {
                root = new JsonReader(text).ReadDocument();
            }
            catch (FormatException ex)
            {
                throw Invalid(source, ex.Message);
            }
            if (!(root is Dictionary<string, object> obj)) throw Invalid(source, "it is not a JSON object");
            if (obj.TryGetValue("Format", out var f) && f is string fs && fs.StartsWith("WgTroubleshoot.SupportBundle", StringComparison.Ordinal))
            {
                if (!obj.TryGetValue("Snapshot", out var inner) || !(inner is Dictionary<string, object> innerObj))
                    throw Invalid(source, "it is a support bundle without a Snapshot section (made by an older version of the module)");
                if (innerObj.ContainsKey("Error")) throw Invalid(source, "the bundle's snapshot could not be collected: " + innerObj["Error"]);
                obj = innerObj;
            }
            if (!obj.TryGetValue("Format", out f) || !(f is string format) || format != new HostSnapshot().Format)
                throw Invalid(source, "it is neither a host snapshot nor a support bundle");
            var version = obj.TryGetValue("SchemaVersion", out var v) && v is double d ? (int)d : 0;
            if (version < 1 || version > HostSnapshot.CurrentSchemaVersion)
                throw Invalid(source, $"its schema version {version} is not one this module reads (1 to {HostSnapshot.CurrentSchemaVersion})");
            try
            {
                return (HostSnapshot)Bind(obj, typeof(HostSnapshot), 0);
            }
            catch (Exception ex) when (ex is FormatException || ex is InvalidCastException || ex is OverflowException || ex is ArgumentException)
            {
                throw Invalid(source, ex.Message);
            }
        }

        private static WgException Invalid(string source, string why)
            => new WgException(ErrorIdInvalid, ErrorCategory.InvalidData, $"'{source}' cannot be replayed: {why}.", source);

        private static bool Writable(PropertyInfo p)
            => p.CanRead && p.CanWrite && p.GetIndexParameters().Length == 0 && p.GetSetMethod() != null && p.GetGetMethod() != null;

        private static object Tree(object value, int depth)
        {
            if (depth > 32) throw new InvalidOperationException("The snapshot nests too deeply.");
            switch (value)
            {
                case null: return null;
                case string _: case bool _: case int _: case long _: case double _: case float _: case decimal _:
                case DateTime _: case TimeSpan _: case Enum _: return value;
            }
            if (value is IDictionary dict)
            {
                var o = new OrderedDictionary();
                foreach (DictionaryEntry kv in dict) o[Convert.ToString(kv.Key, CultureInfo.InvariantCulture)] = Tree(kv.Value, depth + 1);
                return o;
            }
            if (value is IEnumerable seq)
            {
                var l = new List<object>();
                foreach (var item in seq) l.Add(Tree(item, depth + 1));
                return l;
            }
            var result = new OrderedDictionary();
            foreach (var p in value.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(Writable))
            {
                var v = p.GetValue(value);
                if (v == null) continue;
                result[p.Name] = Tree(v, depth + 1);
            }
            return result;
        }

        private static object Bind(object node, Type type, int depth)
        {
            if (depth > 32) throw new FormatException("the snapshot nests too deeply");
            var under = Nullable.GetUnderlyingType(type);
            if (node == null) return type.IsValueType && under == null ? Activator.CreateInstance(type) : null;
            if (under != null) type = under;
            if (type == typeof(object)) return node;
            if (type == typeof(string)) return node is string s ? s : Convert.ToString(node, CultureInfo.InvariantCulture);
            if (type == typeof(bool)) return node is bool b ? b : throw new FormatException($"expected true or false, found {node}");
            if (type == typeof(int)) return Convert.ToInt32(Num(node), CultureInfo.InvariantCulture);
            if (type == typeof(long)) return Convert.ToInt64(Num(node), CultureInfo.InvariantCulture);
            if (type == typeof(double)) return Num(node);
            if (type == typeof(DateTime)) return DateTime.Parse(Str(node), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);
            if (type == typeof(TimeSpan)) return TimeSpan.ParseExact(Str(node), "c", CultureInfo.InvariantCulture);
            if (type.IsEnum) return Enum.Parse(type, Str(node), true);
            if (type.IsArray)
            {
                var items = node as List<object> ?? throw new FormatException($"expected a list for {type.Name}");
                var arr = Array.CreateInstance(type.GetElementType(), items.Count);
                for (int i = 0; i < items.Count; i++) arr.SetValue(Bind(items[i], type.GetElementType(), depth + 1), i);
                return arr;
            }
            if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(List<>))
            {
                var items = node as List<object> ?? throw new FormatException($"expected a list for {type.Name}");
                var list = (IList)Activator.CreateInstance(type);
                var et = type.GetGenericArguments()[0];
                foreach (var it in items) list.Add(Bind(it, et, depth + 1));
                return list;
            }
            if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Dictionary<,>))
            {
                var o = node as Dictionary<string, object> ?? throw new FormatException($"expected an object for {type.Name}");
                var args = type.GetGenericArguments();
                if (args[0] != typeof(string)) throw new FormatException("only string keys are supported");
                var dict = (IDictionary)Activator.CreateInstance(type, StringComparer.Ordinal);
                foreach (var kv in o) dict[kv.Key] = Bind(kv.Value, args[1], depth + 1);
                return dict;
            }
            if (!(node is Dictionary<string, object> obj)) throw new FormatException($"expected an object for {type.Name}");
            var target = Activator.CreateInstance(type);
            foreach (var p in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(Writable))
                if (obj.TryGetValue(p.Name, out var v)) p.SetValue(target, Bind(v, p.PropertyType, depth + 1));
            return target;
        }

        private static double Num(object node) => node is double d ? d : throw new FormatException($"expected a number, found {node ?? "null"}");
        private static string Str(object node) => node as string ?? throw new FormatException($"expected a string, found {node ?? "null"}");
    }

    /// <summary>
    /// A strict, bounded JSON reader (RFC 8259): objects become Dictionary&lt;string, object&gt; (a duplicate key is an
    /// error), arrays List&lt;object&gt;, numbers double, plus string, bool and null. Depth is limited; errors are
    /// FormatExceptions that name the position.
    /// </summary>
    internal sealed class JsonReader
    {
        private const int MaxDepth = 64;
        private readonly string _text;
        private int _pos;

        public JsonReader(string text) { _text = text ?? ""; }

        public object ReadDocument()
        {
            if (_text.Length > 0 && _text[0] == '\uFEFF') _pos = 1;
            var v = Value(0);
            Ws();
            if (_pos != _text.Length) throw Error("text after the JSON value");
            return v;
        }

        private FormatException Error(string what) => new FormatException($"{what} at character {_pos + 1}");

        private void Ws() { while (_pos < _text.Length && (_text[_pos] == ' ' || _text[_pos] == '\t' || _text[_pos] == '\n' || _text[_pos] == '\r')) _pos++; }

        private object Value(int depth)
        {
            if (depth > MaxDepth) throw Error("nesting deeper than " + MaxDepth);
            Ws();
            if (_pos >= _text.Length) throw Error("unexpected end of the text");
            char c = _text[_pos];
            switch (c)
            {
                case '{': return Object(depth);
                case '[': return Array(depth);
                case '"': return String();
                case 't': return Literal("true", true);
                case 'f': return Literal("false", false);
                case 'n': return Literal("null", null);
            }
            if (c == '-' || (c >= '0' && c <= '9')) return Number();
            throw Error($"unexpected '{c}'");
        }

        private object Literal(string word, object value)
        {
            if (string.CompareOrdinal(_text, _pos, word, 0, word.Length) != 0) throw Error("unknown word");
            _pos += word.Length;
            return value;
        }

        private Dictionary<string, object> Object(int depth)
        {
            var o = new Dictionary<string, object>(StringComparer.Ordinal);
            _pos++;
            Ws();
            if (_pos < _text.Length && _text[_pos] == '}') { _pos++; return o; }
            while (true)
            {
                Ws();
                if (_pos >= _text.Length || _text[_pos] != '"') throw Error("expected a property name");
                var key = String();
                Ws();
                if (_pos >= _text.Length || _text[_pos] != ':') throw Error("expected ':'");
                _pos++;
                if (o.ContainsKey(key)) throw Error($"duplicate property '{key}'");
                o.Add(key, Value(depth + 1));
                Ws();
                if (_pos >= _text.Length) throw Error("unexpected end of the text");
                if (_text[_pos] == ',') { _pos++; continue; }
                if (_text[_pos] == '}') { _pos++; return o; }
                throw Error("expected ',' or '}'");
            }
        }

        private List<object> Array(int depth)
        {
            var l = new List<object>();
            _pos++;
            Ws();
            if (_pos < _text.Length && _text[_pos] == ']') { _pos++; return l; }
            while (true)
            {
                l.Add(Value(depth + 1));
                Ws();
                if (_pos >= _text.Length) throw Error("unexpected end of the text");
                if (_text[_pos] == ',') { _pos++; continue; }
                if (_text[_pos] == ']') { _pos++; return l; }
                throw Error("expected ',' or ']'");
            }
        }

        private string String()
        {
            _pos++;
            var sb = new System.Text.StringBuilder();
            while (true)
            {
                if (_pos >= _text.Length) throw Error("unterminated string");
                char c = _text[_pos++];
                if (c == '"') return sb.ToString();
                if (c < 0x20) throw Error("control character in a string");
                if (c != '\\') { sb.Append(c); continue; }
                if (_pos >= _text.Length) throw Error("unterminated escape");
                char e = _text[_pos++];
                switch (e)
                {
                    case '"': sb.Append('"'); break;
                    case '\\': sb.Append('\\'); break;
                    case '/': sb.Append('/'); break;
                    case 'b': sb.Append('\b'); break;
                    case 'f': sb.Append('\f'); break;
                    case 'n': sb.Append('\n'); break;
                    case 'r': sb.Append('\r'); break;
                    case 't': sb.Append('\t'); break;
                    case 'u':
                        if (_pos + 4 > _text.Length || !int.TryParse(_text.Substring(_pos, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var code))
                            throw Error("bad \\u escape");
                        sb.Append((char)code);
                        _pos += 4;
                        break;
                    default: throw Error($"unknown escape '\\{e}'");
                }
            }
        }

        private double Number()
        {
            int start = _pos;
            if (_text[_pos] == '-') _pos++;
            while (_pos < _text.Length && "0123456789.eE+-".IndexOf(_text[_pos]) >= 0) _pos++;
            var s = _text.Substring(start, _pos - start);
            if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d)) { _pos = start; throw Error($"bad number '{s}'"); }
            return d;
        }
    }
}
