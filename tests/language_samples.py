"""Short, realistic prompts with the language a reader would expect the report in."""

from __future__ import annotations

SAMPLES: list[tuple[str, str]] = [
    # English
    ("en", "Quarterly sales report by region with a trend chart"),
    ("en", "Summarise revenue and margin for the board"),
    ("en", "Monthly churn analysis, highlight the worst segments"),
    ("en", "Make a short report on support tickets per team"),
    ("en", "Which products grew fastest last quarter?"),
    ("en", "Budget vs actual for 2025, one page"),
    ("en", "Give me an executive summary of the survey results"),
    ("en", "Compare inventory levels across warehouses"),
    # French
    ("fr", "Rapport trimestriel des ventes par région"),
    ("fr", "Résume le chiffre d'affaires et la marge pour le comité de direction"),
    ("fr", "Analyse mensuelle du taux d'attrition, avec les segments les plus touchés"),
    ("fr", "Fais un rapport court sur les tickets de support par équipe"),
    ("fr", "Quels produits ont le plus progressé le trimestre dernier ?"),
    ("fr", "Budget contre réalisé pour 2025, sur une page"),
    ("fr", "Une synthèse des résultats de l'enquête pour la direction"),
    ("fr", "Compare les niveaux de stock entre les entrepôts"),
    # German
    ("de", "Quartalsbericht Umsatz nach Region"),
    ("de", "Fasse Umsatz und Marge für den Vorstand zusammen"),
    ("de", "Monatliche Kündigungsanalyse mit den schwächsten Segmenten"),
    ("de", "Erstelle einen kurzen Bericht über Supporttickets pro Team"),
    ("de", "Welche Produkte sind im letzten Quartal am stärksten gewachsen?"),
    ("de", "Budget gegen Ist für 2025, eine Seite"),
    ("de", "Eine Zusammenfassung der Umfrageergebnisse für die Geschäftsführung"),
    ("de", "Vergleiche die Lagerbestände der einzelnen Standorte"),
    # Spanish
    ("es", "Informe trimestral de ventas por región"),
    ("es", "Resume los ingresos y el margen para el consejo"),
    ("es", "Análisis mensual de bajas de clientes, destacando los peores segmentos"),
    ("es", "Haz un informe breve sobre las incidencias de soporte por equipo"),
    ("es", "¿Qué productos crecieron más el último trimestre?"),
    ("es", "Presupuesto frente a real de 2025, en una página"),
    ("es", "Un resumen ejecutivo de los resultados de la encuesta"),
    ("es", "Compara los niveles de inventario entre almacenes"),
    # Portuguese
    ("pt", "Relatório trimestral de vendas por região"),
    ("pt", "Resuma a receita e a margem para a diretoria"),
    ("pt", "Análise mensal de cancelamentos, com os piores segmentos em destaque"),
    ("pt", "Faça um relatório curto sobre os chamados de suporte por equipe"),
    ("pt", "Quais produtos cresceram mais no último trimestre?"),
    ("pt", "Orçamento versus realizado de 2025, em uma página"),
    ("pt", "Um resumo executivo dos resultados da pesquisa"),
    ("pt", "Compare os níveis de estoque entre os armazéns"),
    # Chinese
    ("zh", "按地区生成季度销售报告"),
    ("zh", "为董事会总结收入和毛利率"),
    ("zh", "每月客户流失分析，突出表现最差的细分市场"),
    ("zh", "做一份各团队支持工单的简短报告"),
    ("zh", "上个季度哪些产品增长最快？"),
    ("zh", "2025年预算与实际对比，一页即可"),
    ("zh", "调查结果的管理层摘要"),
    ("zh", "比较各仓库的库存水平"),
    # Japanese
    ("ja", "地域別の四半期売上レポートを作成してください"),
    ("ja", "取締役会向けに売上と利益率をまとめて"),
    ("ja", "月次の解約分析、最も悪いセグメントを強調"),
    ("ja", "チームごとのサポートチケットの短いレポート"),
    ("ja", "前四半期に最も伸びた製品は？"),
    ("ja", "2025年の予算と実績の比較を1ページで"),
    ("ja", "アンケート結果のエグゼクティブサマリー"),
    ("ja", "倉庫間の在庫水準を比較"),
    # Languages docagent does not write: a sensible fallback (Korean reads best in the CJK
    # layout; Italian and Dutch fall back to English)
    ("en", "Rapporto trimestrale delle vendite per regione"),
    ("en", "Riassumi i ricavi e il margine per il consiglio"),
    ("en", "Kwartaalrapport van de omzet per regio"),
    ("en", "Vat de omzet en de marge samen voor de directie"),
    ("ko", "지역별 분기 매출 보고서를 만들어 주세요"),
    # Mixed: the words around the jargon decide
    ("de", "Q3 sales report für den Vertrieb, aufgeteilt nach Regionen"),
    ("fr", "Un dashboard KPI du Q3 pour l'équipe sales, avec le churn par région"),
    ("es", "Reporte de revenue por trimestre, con el forecast de Q4"),
    ("en", "Sales report for the Vertrieb team by Region"),
    # Mostly column names and numbers: nothing to be confident about, so English
    ("en", "revenue, cost, region"),
    ("en", "Umsatz 2025"),
    ("en", "Q3 2025 KPIs"),
    ("en", "sum(amount) by month"),
    ("en", "CA T1"),
    ("en", ""),
]
