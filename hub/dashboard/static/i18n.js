// Lightbox dashboard: UI strings (zh-CN first, English) and the language choice.
// Language: ?lang=zh-CN|en, else the remembered choice (localStorage), else zh-CN.
'use strict';
(function () {
  const STRINGS = {
    'zh-CN': {
      title: 'Lightbox 运维看板', refresh: '刷新', logout: '退出', switch_to: 'English',
      login_title: '请输入运维令牌',
      login_hint: '令牌由管理员用 lightbox-hub admin create-operator 生成（lbo_ 开头）。仅保存在本标签页。',
      login_button: '进入', token_rejected: '令牌无效或已吊销。', token_not_ops: '此令牌不是运维令牌（需要 lbo_ 令牌）。',
      institutions: '机构', agents: '代理', active_alerts: '活动告警',
      status_healthy: '正常', status_degraded: '异常', status_offline: '离线',
      alerts_title: '活动告警', alerts_none: '当前没有活动告警。', alerts_not_configured: '未配置告警。',
      alerts_forbidden: '无权查看告警。',
      col_severity: '级别', col_rule: '规则', col_institution: '机构', col_agent: '代理', col_message: '内容',
      col_since: '开始', col_ack: '确认', ack: '确认', acked_by: '已确认：',
      sev_info: '提示', sev_warning: '警告', sev_critical: '严重',
      institutions_title: '机构', col_name: '名称', col_health: '状态', col_uploads_7d: '7 天上传',
      col_bytes_7d: '7 天数据量', col_last_upload: '最近上传',
      agents_title: '代理', col_status: '状态', col_backlog: '积压', col_last_seen: '最近心跳',
      col_disk_free: '磁盘剩余', col_errors: '错误', col_reasons: '原因', agents_hint: '点击一行查看详情。',
      detail_title: '代理详情', range_24h: '24 小时', range_7d: '7 天', close: '关闭',
      chart_throughput: '吞吐（每时段上传量）', chart_backlog: '积压与磁盘剩余',
      sources_title: '数据源', col_source: '数据源', col_kind: '类型', col_last_scan: '最近扫描',
      col_last_error: '最近错误', errors_title: '最近错误', col_error_kind: '错误类型', col_count: '次数',
      no_errors: '无错误', no_data: '暂无数据',
      uploads_title: '各机构每日上传（近 7 天）', col_day: '日期', items: '件', total: '合计',
      fact_version: '版本', fact_uptime: '运行时间', fact_queue: '队列', fact_oldest: '最早待传',
      fact_clock: '时钟偏差', fact_rss: '内存', fact_spool: '缓存盘',
      series_items: '上传件数', series_bytes: '上传字节', series_errors: '错误',
      series_backlog: '积压字节', series_disk: '磁盘剩余',
      updated: '更新于 ', never: '从未', ago_s: ' 秒前', ago_m: ' 分钟前', ago_h: ' 小时前', ago_d: ' 天前',
      load_failed: '加载失败：', footer: 'Lightbox 市级医学影像平台 · 数据每 30 秒刷新',
    },
    en: {
      title: 'Lightbox operations dashboard', refresh: 'Refresh', logout: 'Sign out', switch_to: '中文',
      login_title: 'Enter your ops token',
      login_hint: 'An administrator creates it with lightbox-hub admin create-operator (starts with lbo_). Kept in this tab only.',
      login_button: 'Open', token_rejected: 'The token is unknown or revoked.',
      token_not_ops: 'This is not an ops token (an lbo_ token is needed).',
      institutions: 'Institutions', agents: 'Agents', active_alerts: 'Active alerts',
      status_healthy: 'healthy', status_degraded: 'degraded', status_offline: 'offline',
      alerts_title: 'Active alerts', alerts_none: 'No active alerts.', alerts_not_configured: 'No alerts configured.',
      alerts_forbidden: 'Not allowed to read alerts.',
      col_severity: 'Severity', col_rule: 'Rule', col_institution: 'Institution', col_agent: 'Agent',
      col_message: 'Message', col_since: 'Since', col_ack: 'Ack', ack: 'Acknowledge', acked_by: 'Acked by ',
      sev_info: 'info', sev_warning: 'warning', sev_critical: 'critical',
      institutions_title: 'Institutions', col_name: 'Name', col_health: 'Health', col_uploads_7d: 'Uploads (7 d)',
      col_bytes_7d: 'Bytes (7 d)', col_last_upload: 'Last upload',
      agents_title: 'Agents', col_status: 'Status', col_backlog: 'Backlog', col_last_seen: 'Last heartbeat',
      col_disk_free: 'Disk free', col_errors: 'Errors', col_reasons: 'Reasons', agents_hint: 'Click a row for details.',
      detail_title: 'Agent', range_24h: '24 h', range_7d: '7 days', close: 'Close',
      chart_throughput: 'Throughput (uploads per interval)', chart_backlog: 'Backlog and disk free',
      sources_title: 'Sources', col_source: 'Source', col_kind: 'Kind', col_last_scan: 'Last scan',
      col_last_error: 'Last error', errors_title: 'Recent errors', col_error_kind: 'Error kind', col_count: 'Count',
      no_errors: 'No errors', no_data: 'No data yet',
      uploads_title: 'Uploads per institution per day (last 7 days)', col_day: 'Day', items: 'items', total: 'Total',
      fact_version: 'Version', fact_uptime: 'Uptime', fact_queue: 'Queue', fact_oldest: 'Oldest pending',
      fact_clock: 'Clock offset', fact_rss: 'Memory', fact_spool: 'Spool disk',
      series_items: 'items uploaded', series_bytes: 'bytes uploaded', series_errors: 'errors',
      series_backlog: 'backlog bytes', series_disk: 'disk free',
      updated: 'Updated ', never: 'never', ago_s: ' s ago', ago_m: ' min ago', ago_h: ' h ago', ago_d: ' d ago',
      load_failed: 'Loading failed: ', footer: 'Lightbox city imaging platform · refreshes every 30 s',
    },
  };
  const KEY = 'lightbox.lang';
  // The hub's health reasons (hub/fleet/heartbeat.cpp) are English; these render them in Chinese.
  const REASONS_ZH = [
    [/^never seen$/, () => '从未上报心跳'],
    [/^no heartbeat for (\d+) s$/, (m) => m[1] + ' 秒无心跳'],
    [/^source error: (.*)$/, (m) => '数据源错误：' + m[1]],
    [/^spool disk full$/, () => '缓存盘已满'],
    [/^spool disk under 10 % free$/, () => '缓存盘剩余不足 10%'],
    [/^backlog growing$/, () => '积压持续增长'],
    [/^(\d+) errors since the previous beat$/, (m) => '自上次心跳以来 ' + m[1] + ' 个错误'],
  ];

  function normalize(l) {
    if (!l) return null;
    l = String(l).toLowerCase();
    if (l.startsWith('en')) return 'en';
    if (l.startsWith('zh')) return 'zh-CN';
    return null;
  }
  function stored() {
    try { return localStorage.getItem(KEY); } catch (e) { return null; }
  }
  function remember(l) {
    try { localStorage.setItem(KEY, l); } catch (e) { /* private mode: not remembered */ }
  }

  let current = normalize(new URLSearchParams(location.search).get('lang')) || normalize(stored()) || 'zh-CN';

  const I18n = {
    lang() { return current; },
    setLang(l) { current = normalize(l) || 'zh-CN'; remember(current); I18n.apply(); },
    t(key) { return (STRINGS[current] && STRINGS[current][key]) || STRINGS['zh-CN'][key] || key; },
    reason(text) {
      if (current !== 'zh-CN') return text;
      for (const [re, fmt] of REASONS_ZH) {
        const m = re.exec(text);
        if (m) return fmt(m);
      }
      return text;
    },
    apply() {
      document.documentElement.lang = current;
      document.title = I18n.t('title');
      document.querySelectorAll('[data-i18n]').forEach((el) => { el.textContent = I18n.t(el.dataset.i18n); });
      const sw = document.getElementById('lang-switch');
      if (sw) { sw.textContent = I18n.t('switch_to'); sw.lang = current === 'en' ? 'zh-CN' : 'en'; }
    },
  };
  window.LightboxI18n = I18n;
})();
