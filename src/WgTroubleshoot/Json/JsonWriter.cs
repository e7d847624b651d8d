using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Reflection;
using System.Text;

namespace WgTroubleshoot.Json
{
    /// <summary>
    /// The module's one JSON writer, for snapshots and support bundles (indented) and for what crosses a session to
    /// another host (compact, no whitespace): strings, numbers, booleans, null, arrays and objects (netstandard2.0 has
    /// no System.Text.Json, and the module takes no dependency for this; <see cref="JsonReader"/> reads it back).
    /// <see cref="WriteValue"/> also writes dictionaries (as objects, keys in their order), sequences, enums
    /// (by name), DateTime (ISO 8601), TimeSpan ("c" format) and other objects by their public properties.
    /// </summary>
    internal sealed class JsonWriter
    {
        private const int MaxDepth = 16;
        private readonly StringBuilder _sb = new StringBuilder();
        private readonly Stack<bool> _hasItems = new Stack<bool>();   // per open container: something written yet
        private readonly Stack<bool> _isObject = new Stack<bool>();
        private readonly bool _indented;
        private bool _afterName;

        /// <param name="indented">false: no whitespace at all (the remote wire format).</param>
        public JsonWriter(bool indented = true) { _indented = indented; }

        /// <summary><paramref name="value"/> as compact JSON (see <see cref="WriteValue"/>).</summary>
        public static string Compact(object value) => new JsonWriter(indented: false).WriteValue(value).ToString();

        public override string ToString() => _sb.ToString();

        public JsonWriter StartObject() => Open('{', true);
        public JsonWriter EndObject() => Close('}', true);
        public JsonWriter StartArray() => Open('[', false);
        public JsonWriter EndArray() => Close(']', false);

        public JsonWriter Name(string name)
        {
            if (_isObject.Count == 0 || !_isObject.Peek() || _afterName)
                throw new InvalidOperationException("A property name is only valid directly inside an object.");
            Separator();
            Quote(_sb, name ?? string.Empty);
            _sb.Append(_indented ? ": " : ":");
            _afterName = true;
            return this;
        }

        public JsonWriter String(string value) => value == null ? Null() : Raw(Quote(value));
        public JsonWriter Bool(bool value) => Raw(value ? "true" : "false");
        public JsonWriter Null() => Raw("null");
        public JsonWriter Number(long value) => Raw(value.ToString(CultureInfo.InvariantCulture));
        public JsonWriter Number(ulong value) => Raw(value.ToString(CultureInfo.InvariantCulture));
        public JsonWriter Number(decimal value) => Raw(value.ToString(CultureInfo.InvariantCulture));

        /// <summary>NaN and the infinities have no JSON form: they are written as null.</summary>
        public JsonWriter Number(double value)
            => double.IsNaN(value) || double.IsInfinity(value) ? Null() : Raw(value.ToString("R", CultureInfo.InvariantCulture));

        /// <summary>Writes any value of the bundle's data model (see the class summary).</summary>
        public JsonWriter WriteValue(object value) => WriteValue(value, 0);

        private JsonWriter WriteValue(object value, int depth)
        {
            switch (value)
            {
                case null: return Null();
                case string s: return String(s);
                case char c: return String(c.ToString());
                case bool b: return Bool(b);
                case byte _: case sbyte _: case short _: case ushort _: case int _: case uint _: case long _:
                    return Number(Convert.ToInt64(value, CultureInfo.InvariantCulture));
                case ulong u: return Number(u);
                case float f: return Number((double)f);
                case double d: return Number(d);
                case decimal m: return Number(m);
                case Enum e: return String(e.ToString());
                case DateTime dt: return String(dt.ToString("o", CultureInfo.InvariantCulture));
                case DateTimeOffset dto: return String(dto.ToString("o", CultureInfo.InvariantCulture));
                case TimeSpan ts: return String(ts.ToString("c", CultureInfo.InvariantCulture));
                case Guid g: return String(g.ToString());
                case Version v: return String(v.ToString());
            }
            if (depth >= MaxDepth) return String(value.ToString());
            if (value is IDictionary dict)
            {
                StartObject();
                foreach (DictionaryEntry kv in dict)
                {
                    Name(Convert.ToString(kv.Key, CultureInfo.InvariantCulture));
                    WriteValue(kv.Value, depth + 1);
                }
                return EndObject();
            }
            if (value is IEnumerable seq)
            {
                StartArray();
                foreach (var item in seq) WriteValue(item, depth + 1);
                return EndArray();
            }
            StartObject();
            foreach (var p in value.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance)
                                   .Where(p => p.CanRead && p.GetIndexParameters().Length == 0))
            {
                object v;
                try { v = p.GetValue(value); }
                catch (TargetInvocationException ex) { v = "(" + (ex.InnerException ?? ex).Message + ")"; }
                Name(p.Name);
                WriteValue(v, depth + 1);
            }
            return EndObject();
        }

        /// <summary>The JSON string literal for <paramref name="value"/>, quotes included.</summary>
        public static string Quote(string value)
        {
            var sb = new StringBuilder(value.Length + 2);
            Quote(sb, value);
            return sb.ToString();
        }

        private static void Quote(StringBuilder sb, string value)
        {
            sb.Append('"');
            for (int i = 0; i < value.Length; i++)
            {
                char c = value[i];
                switch (c)
                {
                    case '"': sb.Append("\\\""); continue;
                    case '\\': sb.Append("\\\\"); continue;
                    case '\b': sb.Append("\\b"); continue;
                    case '\f': sb.Append("\\f"); continue;
                    case '\n': sb.Append("\\n"); continue;
                    case '\r': sb.Append("\\r"); continue;
                    case '\t': sb.Append("\\t"); continue;
                }
                bool escape = c < 0x20 || c == '\u007f' || c == '\u2028' || c == '\u2029';
                if (char.IsHighSurrogate(c))
                {
                    if (i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
                    {
                        sb.Append(c).Append(value[++i]);
                        continue;
                    }
                    escape = true;   // a lone surrogate has no UTF-8 form: keep it as an escape
                }
                else if (char.IsLowSurrogate(c)) escape = true;
                if (escape) sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                else sb.Append(c);
            }
            sb.Append('"');
        }

        private JsonWriter Open(char bracket, bool isObject)
        {
            BeforeValue();
            _sb.Append(bracket);
            _hasItems.Push(false);
            _isObject.Push(isObject);
            return this;
        }

        private JsonWriter Close(char bracket, bool isObject)
        {
            if (_isObject.Count == 0 || _isObject.Peek() != isObject || _afterName)
                throw new InvalidOperationException($"'{bracket}' does not close the open container.");
            bool had = _hasItems.Pop();
            _isObject.Pop();
            if (had) NewLine();
            _sb.Append(bracket);
            return this;
        }

        private JsonWriter Raw(string text)
        {
            BeforeValue();
            _sb.Append(text);
            return this;
        }

        private void BeforeValue()
        {
            if (_afterName) { _afterName = false; return; }
            if (_isObject.Count == 0)
            {
                if (_sb.Length > 0) throw new InvalidOperationException("A JSON text has one top-level value.");
                return;
            }
            if (_isObject.Peek()) throw new InvalidOperationException("A value inside an object needs a property name first.");
            Separator();
        }

        private void Separator()
        {
            if (_hasItems.Peek()) _sb.Append(',');
            _hasItems.Pop();
            _hasItems.Push(true);
            NewLine();
        }

        private void NewLine()
        {
            if (!_indented) return;
            _sb.Append('\n');
            _sb.Append(' ', 2 * _isObject.Count);
        }
    }
}
